// Corpus: fail no-head-of-line
// Mistake: It hands requests to one worker goroutine over an unbuffered channel, so while the worker is busy with a long request the next delivering callback blocks on the send and holds the loop for the rest of that request's work.
package handler

import (
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine"
)

type job struct {
	l       *engine.Loop
	id      int
	units   int
	work    func(n int) uint64
	respond func(result uint64)
}

var (
	once sync.Once
	jobs chan job
)

func worker() {
	for j := range jobs {
		r := j.work(j.units)
		respond := j.respond
		j.l.Post(fmt.Sprintf("req %d done", j.id), func() { respond(r) })
	}
}

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	once.Do(func() {
		jobs = make(chan job)
		go worker()
	})
	jobs <- job{l, id, units, work, respond}
}
