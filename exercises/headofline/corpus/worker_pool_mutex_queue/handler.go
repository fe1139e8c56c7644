// Corpus: pass
// Approach: Two long-lived worker goroutines take whole requests from a mutex-and-cond queue that the loop only appends to (never blocking), and post each result back for respond.
package handler

import (
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine"
)

type pool struct {
	mu   sync.Mutex
	cond *sync.Cond
	jobs []func()
}

var (
	start  sync.Once
	shared *pool
)

func (p *pool) submit(job func()) {
	p.mu.Lock()
	p.jobs = append(p.jobs, job)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *pool) worker() {
	for {
		p.mu.Lock()
		for len(p.jobs) == 0 {
			p.cond.Wait()
		}
		job := p.jobs[0]
		p.jobs = p.jobs[1:]
		p.mu.Unlock()
		job()
	}
}

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	start.Do(func() {
		shared = &pool{}
		shared.cond = sync.NewCond(&shared.mu)
		for range 2 {
			go shared.worker()
		}
	})
	name := fmt.Sprintf("req %d: result from pool", id)
	shared.submit(func() {
		r := work(units)
		l.Post(name, func() { respond(r) })
	})
}
