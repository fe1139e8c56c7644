// Corpus: fail no-head-of-line
// Mistake: Its round-robin scheduler gives every pending request a ten-unit slice within one tick callback, so with three or more requests pending a single callback does 30 or more units while others wait.
package handler

import (
	"sync"

	"github.com/asynclab/asynclab/engine"
)

type job struct {
	left    int
	last    uint64
	work    func(n int) uint64
	respond func(result uint64)
}

type rr struct {
	jobs    []*job
	ticking bool
}

var (
	mu     sync.Mutex
	byLoop = map[*engine.Loop]*rr{}
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	mu.Lock()
	s := byLoop[l]
	if s == nil {
		s = &rr{}
		byLoop[l] = s
	}
	mu.Unlock()
	s.jobs = append(s.jobs, &job{left: units, work: work, respond: respond})
	if s.ticking {
		return
	}
	s.ticking = true
	var tick func()
	tick = func() {
		still := s.jobs[:0]
		for _, j := range s.jobs {
			n := min(10, j.left)
			j.last = j.work(n)
			j.left -= n
			if j.left == 0 {
				j.respond(j.last)
			} else {
				still = append(still, j)
			}
		}
		s.jobs = still
		if len(s.jobs) == 0 {
			s.ticking = false
			return
		}
		l.Queue("round-robin tick", tick)
	}
	l.Queue("round-robin tick", tick)
}
