package live_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynclab/asynclab/web/live"
)

// builder counts the builds of one run's stream.
type builder struct {
	id     string
	builds atomic.Int32
}

func (b *builder) build() (*live.Stream, error) {
	b.builds.Add(1)
	return live.NewStream(b.id, true), nil
}

func TestHubGetBuildsOnce(t *testing.T) {
	const callers = 64
	h := live.NewHub(time.Hour, 1<<20)
	var builds atomic.Int32
	release := make(chan struct{})
	build := func() (*live.Stream, error) {
		builds.Add(1)
		<-release // every caller starts while the build is running
		return live.NewStream("r", true), nil
	}
	var started, done sync.WaitGroup
	got := make([]*live.Stream, callers)
	errs := make([]error, callers)
	for i := range callers {
		started.Add(1)
		done.Go(func() {
			started.Done()
			got[i], errs[i] = h.Get("r", build)
		})
	}
	started.Wait()
	close(release)
	done.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d concurrent Get calls built %d times, want 1", callers, n)
	}
	for i := range callers {
		if errs[i] != nil || got[i] == nil || got[i] != got[0] {
			t.Fatalf("Get #%d = %p, %v; want the one stream %p", i, got[i], errs[i], got[0])
		}
	}
}

func TestHubGetRetriesFailedBuild(t *testing.T) {
	h := live.NewHub(time.Hour, 1<<20)
	errBuild := errors.New("no such recording")
	var builds atomic.Int32
	building, failing := make(chan struct{}), make(chan struct{})
	fail := func() (*live.Stream, error) {
		builds.Add(1)
		close(building)
		<-failing
		return nil, errBuild
	}
	b := &builder{id: "r"}
	first := make(chan error, 1)
	go func() {
		_, err := h.Get("r", fail)
		first <- err
	}()
	<-building
	// A second caller, concurrent with the failing build or after it,
	// gets a stream of its own build either way.
	second := make(chan error, 1)
	go func() {
		s, err := h.Get("r", b.build)
		if err == nil && s == nil {
			err = errors.New("nil stream")
		}
		second <- err
	}()
	close(failing)
	if err := <-first; !errors.Is(err, errBuild) {
		t.Errorf("Get with a failing build = %v, want %v", err, errBuild)
	}
	if err := <-second; err != nil {
		t.Errorf("Get after a failed build = %v, want a stream", err)
	}
	if _, err := h.Get("r", b.build); err != nil {
		t.Fatal(err)
	}
	if n, m := builds.Load(), b.builds.Load(); n != 1 || m != 1 {
		t.Errorf("the failing build ran %d times and the good one %d, want 1 and 1", n, m)
	}
}

// endedAfter closes s once the clock has moved past prev, so that
// streams closed in turn end at strictly increasing times, and returns
// when s ended.
func endedAfter(s *live.Stream, prev time.Time) time.Time {
	for !time.Now().After(prev) {
	}
	s.Close()
	_, at := s.Done()
	return at
}

func TestHubEvictsOldEndedStreams(t *testing.T) {
	tests := []struct {
		name        string
		keep        time.Duration
		ended       bool
		wantEvicted bool
	}{
		{"ended, older than keep", time.Nanosecond, true, true},
		{"ended, within keep", time.Hour, true, false},
		{"live, older than keep", time.Nanosecond, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := live.NewHub(tt.keep, 1<<30)
			s := live.NewStream("r", false)
			appendRun(s)
			h.Add(s)
			if tt.ended {
				at := endedAfter(s, time.Time{})
				for time.Since(at) <= tt.keep && tt.keep < time.Second {
				}
			}
			// A miss is when the hub evicts.
			if _, err := h.Get("other", (&builder{id: "other"}).build); err != nil {
				t.Fatal(err)
			}
			b := &builder{id: "r"}
			got, err := h.Get("r", b.build)
			if err != nil {
				t.Fatal(err)
			}
			if evicted := b.builds.Load() == 1; evicted != tt.wantEvicted {
				t.Errorf("evicted = %v, want %v", evicted, tt.wantEvicted)
			}
			if !tt.wantEvicted && got != s {
				t.Errorf("Get returned %p, want the stream added, %p", got, s)
			}
		})
	}
}

func TestHubBudgetEvictsOldestEnded(t *testing.T) {
	// Three ended streams a, b, c, ended in that order, and a live one
	// bigger than any budget here: live streams neither count nor go.
	newStreams := func() (ended []*live.Stream, running *live.Stream) {
		var at time.Time
		for i := range 3 {
			s := live.NewStream(fmt.Sprint(i), false)
			appendRun(s)
			at = endedAfter(s, at)
			ended = append(ended, s)
		}
		running = live.NewStream("live", false)
		for range 10 {
			appendRun(running)
		}
		return ended, running
	}
	ended, _ := newStreams()
	size := ended[0].Bytes() // all three have the same size
	tests := []struct {
		budget      int
		wantEvicted []bool // of a, b, c
	}{
		{budget: 3 * size, wantEvicted: []bool{false, false, false}},
		{budget: 3*size - 1, wantEvicted: []bool{true, false, false}},
		{budget: 2 * size, wantEvicted: []bool{true, false, false}},
		{budget: 2*size - 1, wantEvicted: []bool{true, true, false}},
		{budget: size, wantEvicted: []bool{true, true, false}},
		{budget: 0, wantEvicted: []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("budget=%d", tt.budget), func(t *testing.T) {
			h := live.NewHub(time.Hour, tt.budget)
			ended, running := newStreams()
			h.Add(running)
			for _, s := range ended {
				h.Add(s)
			}
			if _, err := h.Get("other", (&builder{id: "other"}).build); err != nil {
				t.Fatal(err)
			}
			// Hits first: a miss would evict again.
			b := &builder{id: "live"}
			if got, err := h.Get("live", b.build); err != nil || got != running {
				t.Errorf("Get(live) = %p, %v; want the live stream %p", got, err, running)
			}
			for i, s := range ended {
				if tt.wantEvicted[i] {
					continue
				}
				if got, err := h.Get(s.ID(), (&builder{id: s.ID()}).build); err != nil || got != s {
					t.Errorf("Get(%s) = %p, %v; want the stream kept, %p", s.ID(), got, err, s)
				}
			}
			for i, s := range ended {
				if !tt.wantEvicted[i] {
					continue
				}
				if got, err := h.Get(s.ID(), (&builder{id: s.ID()}).build); err != nil || got == s {
					t.Errorf("Get(%s) = %p, %v; want it evicted and built anew", s.ID(), got, err)
				}
			}
		})
	}
}

// A build that panics fails the callers waiting on it instead of leaving
// them waiting, and the next caller builds again.
func TestHubGetSurvivesPanickingBuild(t *testing.T) {
	h := live.NewHub(time.Hour, 1<<20)
	if _, err := h.Get("p", func() (*live.Stream, error) { panic("boom") }); err == nil {
		t.Fatal("Get with a panicking build = nil error")
	}
	s, err := h.Get("p", func() (*live.Stream, error) { return live.NewStream("p", true), nil })
	if err != nil || s == nil {
		t.Fatalf("Get after a panicking build = %v, %v", s, err)
	}
}
