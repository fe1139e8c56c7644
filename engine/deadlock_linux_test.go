package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestBlockedLoopWithOffLoopWaiterIsDeadlock: a callback blocks on a
// channel that a goroutine feeds only after its Wait on the loop's future
// returns. The watchdog reports it within a second, with the lint already
// published to the reader when OnDeadlock is called, as a harness that then
// exits needs; once the callback is unblocked, Run returns the error.
func TestBlockedLoopWithOffLoopWaiterIsDeadlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		rec := trace.NewRecorder(0, 1<<16, time.Now())
		ch := make(chan int, 1) // the waiter's send must not block once Wait fails
		type report struct {
			err       *engine.DeadlockError
			published []string // the deadlock lints the reader could drain then
		}
		reported := make(chan report, 1)
		l := engine.New(engine.Config{Backend: kind, Recorder: rec,
			OnDeadlock: func(err *engine.DeadlockError) {
				var lints []string
				for _, e := range rec.Drain(nil) {
					if e.Kind == trace.KindLint && trace.LintCode(e.Arg0) == trace.LintDeadlock {
						lints = append(lints, rec.Name(e.Name))
					}
				}
				reported <- report{err, lints}
				ch <- 0 // a harness exits here; the test lets the callback go
			}})
		recorders.Store(l, rec)
		began := time.Now()
		err := l.Run(context.Background(), "main", func() {
			l.Queue("blocker", func() {
				f := engine.NewFuture[int](l, "answer")
				go func() {
					v, _ := f.Wait()
					ch <- v
				}()
				<-ch // wrong: the goroutine needs the loop first
			})
		})
		var r report
		select {
		case r = <-reported:
		default:
			t.Fatalf("Run() = %v, and OnDeadlock was not called", err)
		}
		if took := time.Since(began); took > time.Second {
			t.Errorf("the deadlock was reported after %v, want within a second", took)
		}
		var dl *engine.DeadlockError
		if !errors.As(err, &dl) || dl != r.err {
			t.Errorf("Run() = %v, want the DeadlockError OnDeadlock got (%v)", err, r.err)
		}
		if !r.err.OffLoopWait || r.err.Handler != "blocker" || r.err.Future != "answer" {
			t.Errorf("DeadlockError = %+v, want handler blocker, future answer, OffLoopWait", r.err)
		}
		want := `handler "blocker" blocked the loop while another goroutine waits in Wait for future "answer", which only the loop can resolve`
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("DeadlockError.Error() = %q, want it to contain %q", r.err, want)
		}
		if len(r.published) != 1 || r.published[0] != r.err.Error() {
			t.Errorf("deadlock lints published when OnDeadlock was called = %q, want the error's message", r.published)
		}
	})
}

// TestBlockedLoopWithoutWaiterIsNotDeadlock: a callback that blocks 150ms
// on a channel a plain goroutine feeds is slow, not deadlocked.
func TestBlockedLoopWithoutWaiterIsNotDeadlock(t *testing.T) {
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	l := engine.New(engine.Config{Recorder: rec, OnDeadlock: func(err *engine.DeadlockError) {
		t.Errorf("OnDeadlock(%v) for a callback no goroutine waits on", err)
	}})
	recorders.Store(l, rec)
	tr := run(t, l, func() {
		l.Queue("slow", func() {
			ch := make(chan int)
			go func() {
				time.Sleep(150 * time.Millisecond)
				ch <- 1
			}()
			<-ch
			l.Stop()
		})
	})
	if got := lints(tr, trace.LintDeadlock); len(got) > 0 {
		t.Errorf("deadlock lints = %q, want none", got)
	}
}

// TestOffLoopWaitWhileLoopRuns: a goroutine waiting for a future that the
// loop resolves 150ms later, while the loop keeps running callbacks and
// sleeps in epoll in between, is no deadlock.
func TestOffLoopWaitWhileLoopRuns(t *testing.T) {
	l := newLoop(t, engine.Epoll)
	got := make(chan int, 1)
	tr := run(t, l, func() {
		f := engine.NewFuture[int](l, "later")
		go func() {
			v, _ := f.Wait()
			got <- v
		}()
		l.AfterFunc("resolve", 150*time.Millisecond, func() { f.Resolve(7, nil) })
		l.AfterFunc("stop", 200*time.Millisecond, l.Stop)
	})
	if v := <-got; v != 7 {
		t.Errorf("Wait() = %d, want 7", v)
	}
	if got := lints(tr, trace.LintDeadlock); len(got) > 0 {
		t.Errorf("deadlock lints = %q, want none", got)
	}
}

// TestOffLoopWaitEndsWithRun: a goroutine still waiting when the run ends
// gets ErrClosed instead of waiting forever.
func TestOffLoopWaitEndsWithRun(t *testing.T) {
	l := newLoop(t, engine.Epoll)
	got := make(chan error, 1)
	run(t, l, func() {
		f := engine.NewFuture[int](l, "never")
		go func() {
			_, err := f.Wait()
			got <- err
		}()
		l.AfterFunc("stop", 10*time.Millisecond, l.Stop)
	})
	select {
	case err := <-got:
		if !errors.Is(err, engine.ErrClosed) {
			t.Errorf("Wait() = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait() did not return after the run ended")
	}
}
