// Corpus: fail no-head-of-line
// Mistake: It queues requests and always runs the one with the fewest units next, but runs each chosen request to completion in one callback, so the 80, 40 and 150-unit requests still block everything that arrives while they run.
package handler

import (
	"fmt"
	"sort"
	"sync"

	"github.com/asynclab/asynclab/engine"
)

type req struct {
	id      int
	units   int
	work    func(n int) uint64
	respond func(result uint64)
}

type sjf struct {
	waiting   []req
	scheduled bool
}

var (
	mu     sync.Mutex
	byLoop = map[*engine.Loop]*sjf{}
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	mu.Lock()
	s := byLoop[l]
	if s == nil {
		s = &sjf{}
		byLoop[l] = s
	}
	mu.Unlock()
	s.waiting = append(s.waiting, req{id, units, work, respond})
	if s.scheduled {
		return
	}
	s.scheduled = true
	var next func()
	next = func() {
		sort.Slice(s.waiting, func(i, j int) bool { return s.waiting[i].units < s.waiting[j].units })
		r := s.waiting[0]
		s.waiting = s.waiting[1:]
		r.respond(r.work(r.units))
		if len(s.waiting) == 0 {
			s.scheduled = false
			return
		}
		l.Queue("shortest job", next)
	}
	l.Queue(fmt.Sprintf("shortest job (after req %d)", id), next)
}
