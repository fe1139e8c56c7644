// Corpus: fail on-loop responses
// Mistake: It hands the result back from the worker goroutine with l.Queue instead of l.Post, calling a loop-only method off the loop, which the engine reports and which ends the run before the requests are answered.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	go func() {
		r := work(units)
		l.Queue(fmt.Sprintf("req %d done", id), func() { respond(r) })
	}()
}
