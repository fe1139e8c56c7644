package engine_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// streamed runs the loop with its trace streamed as a harness streams it,
// and returns the decoded trace and Run's error.
func streamed(t *testing.T, l *engine.Loop, start func()) (*trace.Trace, error) {
	t.Helper()
	var buf bytes.Buffer
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- trace.Stream(ctx, recorderOf(l), &buf, time.Millisecond) }()
	runCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := l.Run(runCtx, "main", start)
	stop()
	if serr := <-done; serr != nil {
		t.Fatalf("Stream() = %v", serr)
	}
	tr, derr := trace.Decode(&buf, trace.DefaultLimits())
	if derr != nil {
		t.Fatalf("Decode() = %v", derr)
	}
	return tr, err
}

// lints returns the names of the trace's lints with code c.
func lints(tr *trace.Trace, c trace.LintCode) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindLint && trace.LintCode(e.Arg0) == c {
			out = append(out, tr.Name(e.Name))
		}
	}
	return out
}

// TestOffLoopCallEndsRun: a goroutine that calls Queue does not crash the
// process. Run returns an OffLoopError naming the call, the trace holds the
// off-loop lint, and the goroutine's deferred calls ran.
func TestOffLoopCallEndsRun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		deferred := make(chan any, 1)
		returned := false
		tr, err := streamed(t, l, func() {
			l.Queue("spawn", func() {
				go func() {
					defer func() { deferred <- recover() }() // Goexit: recover has nothing to stop
					l.Queue("from a goroutine", func() {})
					returned = true
				}()
			})
		})
		var off *engine.OffLoopError
		if !errors.As(err, &off) || off.Call != "Queue" {
			t.Fatalf("Run() = %v, want an OffLoopError for Queue", err)
		}
		if want := "Queue called off the loop thread; use Loop.Post"; !strings.Contains(err.Error(), want) {
			t.Errorf("Run() error = %q, want it to contain %q", err, want)
		}
		select {
		case v := <-deferred:
			if v != nil {
				t.Errorf("recover() in the goroutine = %v, want nil (Goexit, not a panic)", v)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the goroutine's deferred call never ran")
		}
		if returned {
			t.Error("Queue returned to the goroutine that called it off the loop")
		}
		if got := lints(tr, trace.LintOffLoop); len(got) != 1 || !strings.Contains(got[0], "Queue called off the loop thread") {
			t.Errorf("off-loop lints = %q, want one naming Queue", got)
		}
	})
}

// TestOffLoopCallFromAnotherLoop: a callback of one loop that calls a
// loop-only method of another ends both runs with the error; exiting the
// calling loop's goroutine would leave its Run without a return.
func TestOffLoopCallFromAnotherLoop(t *testing.T) {
	a, b := newLoop(t, engine.Epoll), newLoop(t, engine.Epoll)
	bStarted := make(chan struct{})
	bErr := make(chan error, 1)
	go func() {
		bErr <- b.Run(context.Background(), "b", func() { close(bStarted) })
	}()
	<-bStarted
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.Run(ctx, "a", func() {
		b.AfterFunc("from loop a", time.Millisecond, func() {})
	})
	var off *engine.OffLoopError
	if !errors.As(err, &off) || off.Call != "AfterFunc" {
		t.Errorf("a.Run() = %v, want an OffLoopError for AfterFunc", err)
	}
	select {
	case err := <-bErr:
		if !errors.As(err, &off) || off.Call != "AfterFunc" {
			t.Errorf("b.Run() = %v, want an OffLoopError for AfterFunc", err)
		}
	case <-time.After(10 * time.Second):
		b.Stop()
		t.Fatal("b's run did not end after the off-loop call")
	}
}
