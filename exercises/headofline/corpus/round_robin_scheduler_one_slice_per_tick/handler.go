// Corpus: pass
// Approach: A per-loop round-robin scheduler keeps the pending requests in a ring and each queued tick does one ten-unit slice of the request at the front before moving it to the back.
package handler

import (
	"sync"

	"github.com/asynclab/asynclab/engine"
)

const quantum = 10

type job struct {
	left    int
	last    uint64
	work    func(n int) uint64
	respond func(result uint64)
}

type scheduler struct {
	l       *engine.Loop
	jobs    []*job
	running bool
}

var (
	mu     sync.Mutex
	scheds = map[*engine.Loop]*scheduler{}
)

func schedulerFor(l *engine.Loop) *scheduler {
	mu.Lock()
	defer mu.Unlock()
	s := scheds[l]
	if s == nil {
		s = &scheduler{l: l}
		scheds[l] = s
	}
	return s
}

func (s *scheduler) tick() {
	j := s.jobs[0]
	s.jobs = s.jobs[1:]
	n := min(quantum, j.left)
	j.last = j.work(n)
	j.left -= n
	if j.left == 0 {
		j.respond(j.last)
	} else {
		s.jobs = append(s.jobs, j)
	}
	if len(s.jobs) == 0 {
		s.running = false
		return
	}
	s.l.Queue("round-robin tick", s.tick)
}

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	s := schedulerFor(l)
	s.jobs = append(s.jobs, &job{left: units, work: work, respond: respond})
	if !s.running {
		s.running = true
		l.Queue("round-robin tick", s.tick)
	}
}
