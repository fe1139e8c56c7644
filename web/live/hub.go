package live

import (
	"fmt"
	"sync"
	"time"
)

// Hub holds the streams of live runs, and of recent and replayed ones so
// that many viewers share one copy. It is safe for concurrent use.
type Hub struct {
	keep   time.Duration // how long an ended stream is kept
	budget int           // bytes of ended streams kept at most

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	ready chan struct{} // closed when s or err is set
	s     *Stream
	err   error
}

// NewHub returns a hub that keeps ended streams for keep, within budget
// bytes in all.
func NewHub(keep time.Duration, budget int) *Hub {
	return &Hub{keep: keep, budget: budget, entries: make(map[string]*entry)}
}

// Add registers a live stream.
func (h *Hub) Add(s *Stream) {
	e := &entry{ready: make(chan struct{}), s: s}
	close(e.ready)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evictLocked()
	h.entries[s.ID()] = e
}

// Drop removes s, if it is still the stream the hub holds for its run,
// so that the next Get builds the run's stream anew.
func (h *Hub) Drop(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[s.ID()]; e != nil && e.s == s {
		delete(h.entries, s.ID())
	}
}

// Lookup returns the stream the hub holds for run id, or nil when it holds
// none, or only one being built or abandoned.
func (h *Hub) Lookup(id string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.entries[id]
	if !ok || !built(e) || e.s == nil || e.s.Abandoned() {
		return nil
	}
	return e.s
}

// Get returns the stream of run id, building it with build if the hub
// has none, or only an abandoned one. Concurrent callers for one id share
// one build. A failed build is not kept.
func (h *Hub) Get(id string, build func() (*Stream, error)) (*Stream, error) {
	h.mu.Lock()
	e, ok := h.entries[id]
	if ok && built(e) && e.s != nil && e.s.Abandoned() {
		delete(h.entries, id)
		ok = false
	}
	if !ok {
		h.evictLocked()
		e = &entry{ready: make(chan struct{})}
		h.entries[id] = e
	}
	h.mu.Unlock()
	if ok {
		<-e.ready
		if e.err == nil {
			return e.s, nil
		}
		return h.Get(id, build) // a failed build was removed; try ours
	}
	e.s, e.err = safeBuild(build)
	if e.err != nil {
		h.mu.Lock()
		if h.entries[id] == e { // not a live stream added meanwhile
			delete(h.entries, id)
		}
		h.mu.Unlock()
	}
	close(e.ready)
	return e.s, e.err
}

// built reports whether e's build is over, so that e.s and e.err may be
// read.
func built(e *entry) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// safeBuild runs build, turning a panic into an error, so that callers
// waiting on the same build are never left waiting.
func safeBuild(build func() (*Stream, error)) (s *Stream, err error) {
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, fmt.Errorf("live: building a stream panicked: %v", v)
		}
	}()
	return build()
}

// evictLocked drops ended streams older than keep, then the oldest ended
// ones while the total is over budget. Live streams always stay.
func (h *Hub) evictLocked() {
	type ended struct {
		id   string
		at   time.Time
		size int
	}
	var old []ended
	total := 0
	now := time.Now()
	for id, e := range h.entries {
		select {
		case <-e.ready:
		default:
			continue // being built
		}
		if e.s == nil {
			continue
		}
		done, at := e.s.Done()
		if !done {
			continue
		}
		if now.Sub(at) > h.keep {
			delete(h.entries, id)
			continue
		}
		size := e.s.Bytes()
		total += size
		old = append(old, ended{id, at, size})
	}
	for total > h.budget && len(old) > 0 {
		oldest := 0
		for i := range old {
			if old[i].at.Before(old[oldest].at) {
				oldest = i
			}
		}
		delete(h.entries, old[oldest].id)
		total -= old[oldest].size
		old = append(old[:oldest], old[oldest+1:]...)
	}
}
