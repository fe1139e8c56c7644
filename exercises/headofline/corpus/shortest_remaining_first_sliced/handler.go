// Corpus: pass
// Approach: A per-loop scheduler picks the pending request with the fewest units left and does only a five-unit slice of it per callback, requeueing itself while work remains.
package handler

import (
	"sync"

	"github.com/asynclab/asynclab/engine"
)

const quantum = 5

type pending struct {
	id      int
	left    int
	last    uint64
	work    func(n int) uint64
	respond func(result uint64)
}

type srpt struct {
	l       *engine.Loop
	ready   []*pending
	running bool
}

var (
	mu     sync.Mutex
	byLoop = map[*engine.Loop]*srpt{}
)

func get(l *engine.Loop) *srpt {
	mu.Lock()
	defer mu.Unlock()
	s, ok := byLoop[l]
	if !ok {
		s = &srpt{l: l}
		byLoop[l] = s
	}
	return s
}

func (s *srpt) run() {
	best := 0
	for i, p := range s.ready {
		if p.left < s.ready[best].left || (p.left == s.ready[best].left && p.id < s.ready[best].id) {
			best = i
		}
	}
	p := s.ready[best]
	n := min(quantum, p.left)
	p.last = p.work(n)
	p.left -= n
	if p.left == 0 {
		s.ready = append(s.ready[:best], s.ready[best+1:]...)
		p.respond(p.last)
	}
	if len(s.ready) > 0 {
		s.l.Queue("srpt slice", s.run)
		return
	}
	s.running = false
}

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	s := get(l)
	s.ready = append(s.ready, &pending{id: id, left: units, work: work, respond: respond})
	if !s.running {
		s.running = true
		l.Queue("srpt slice", s.run)
	}
}
