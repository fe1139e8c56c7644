package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// recorders remembers each test loop's recorder: a loop does not hand its
// recorder out, so that a handler cannot rewrite its own trace.
var recorders sync.Map

func recorderOf(l *engine.Loop) *trace.Recorder {
	r, _ := recorders.Load(l)
	return r.(*trace.Recorder)
}

// backends is the matrix every contract test runs on.
var backends = []engine.Kind{engine.Epoll, engine.Uring}

// newLoop returns a loop on kind. An io_uring test skips only when the
// kernel really lacks io_uring, and says why.
func newLoop(t testing.TB, kind engine.Kind) *engine.Loop {
	t.Helper()
	return newLoopRec(t, kind, nil)
}

func newLoopRec(t testing.TB, kind engine.Kind, rec *trace.Recorder) *engine.Loop {
	t.Helper()
	if kind == engine.Uring {
		if st := uring.Check(); !st.Available {
			t.Skipf("io_uring unavailable on this kernel: %s", st.Reason)
		}
	}
	if rec == nil {
		rec = trace.NewRecorder(0, 1<<16, time.Now())
	}
	l := engine.New(engine.Config{Backend: kind, Recorder: rec})
	recorders.Store(l, rec)
	return l
}

// run runs start on l and fails the test if the run does not end cleanly
// within a generous bound (a hang is a bug, not slowness).
func run(t testing.TB, l *engine.Loop, start func()) *trace.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.Run(ctx, "main", start); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	return recorderOf(l).Snapshot()
}

func forEachBackend(t *testing.T, fn func(t *testing.T, kind engine.Kind)) {
	for _, k := range backends {
		t.Run(string(k), func(t *testing.T) { fn(t, k) })
	}
}

func TestLoopFIFOAndTimers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		var got []string
		run(t, l, func() {
			l.AfterFunc("t20", 20*time.Millisecond, func() { got = append(got, "t20"); l.Stop() })
			l.AfterFunc("t10", 10*time.Millisecond, func() { got = append(got, "t10") })
			l.Queue("a", func() { got = append(got, "a") })
			l.Queue("b", func() { got = append(got, "b") })
		})
		if want := "a b t10 t20"; strings.Join(got, " ") != want {
			t.Errorf("order = %q, want %q", strings.Join(got, " "), want)
		}
	})
}

func TestPostCoalescesWakeups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		const n = 1000
		count := 0
		var wg sync.WaitGroup
		run(t, l, func() {
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < n/4; i++ {
						l.Post("inc", func() {
							count++
							if count == n {
								l.Stop()
							}
						})
					}
				}()
			}
		})
		wg.Wait()
		if count != n {
			t.Errorf("posted callbacks run = %d, want %d", count, n)
		}
	})
}

func TestDeadlockDetected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		start := time.Now()
		err := l.Run(context.Background(), "main", func() {
			l.Queue("lookup-handler", func() {
				f := engine.NewFuture[int](l, "db-lookup")
				l.AfterFunc("db", time.Millisecond, func() { f.Resolve(42, nil) })
				f.Wait()
			})
		})
		var dl *engine.DeadlockError
		if !errors.As(err, &dl) {
			t.Fatalf("Run() = %v, want a DeadlockError", err)
		}
		if dl.Handler != "lookup-handler" || dl.Future != "db-lookup" {
			t.Errorf("DeadlockError = %+v, want handler lookup-handler, future db-lookup", dl)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("deadlock reported after %v; it must be reported at once", el)
		}
		tr := recorderOf(l).Snapshot()
		found := false
		for _, e := range tr.Events {
			if e.Kind == trace.KindLint && trace.LintCode(e.Arg0) == trace.LintDeadlock {
				found = strings.Contains(tr.Name(e.Name), "lookup-handler")
			}
		}
		if !found {
			t.Errorf("trace has no deadlock lint naming the handler")
		}
	})
}

func TestAwaitCoroutines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		var got []int
		run(t, l, func() {
			done := 0
			for i := 1; i <= 3; i++ {
				l.Async("req", func(co *engine.Co) {
					f := engine.NewFuture[int](l, "value")
					l.AfterFunc("resolve", time.Duration(4-i)*time.Millisecond, func() { f.Resolve(i*10, nil) })
					v, err := engine.Await(co, f)
					if err != nil {
						t.Errorf("Await = %v", err)
					}
					got = append(got, v)
					done++
					if done == 3 {
						l.Stop()
					}
				})
			}
		})
		// Three coroutines in flight at once: the shortest timer resolves first.
		if want := []int{30, 20, 10}; len(got) != 3 || got[0] != want[0] || got[2] != want[2] {
			t.Errorf("await order = %v, want %v", got, want)
		}
	})
}
