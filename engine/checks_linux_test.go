package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

func TestSpinOnDoneIsDeadlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		err := l.Run(context.Background(), "main", func() {
			l.Queue("spinner", func() {
				f := engine.NewFuture[int](l, "answer")
				l.AfterFunc("later", time.Millisecond, func() { f.Resolve(1, nil) })
				for !f.Done() {
				}
			})
		})
		var dl *engine.DeadlockError
		if !errors.As(err, &dl) || dl.Handler != "spinner" || dl.Future != "answer" {
			t.Fatalf("Run() = %v, want a DeadlockError for spinner on answer", err)
		}
	})
}

func TestResolveOffLoopIsFlaggedAndPostedBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		var got int
		tr := run(t, l, func() {
			f := engine.NewFuture[int](l, "from-worker")
			go f.Resolve(7, nil) // wrong: should Post back to the loop
			f.Then(func(v int, _ error) {
				got = v
				l.Stop()
			})
		})
		if got != 7 {
			t.Errorf("continuation got %d, want 7 (the resolution must still reach the loop)", got)
		}
		found := false
		for _, e := range tr.Events {
			if e.Kind == trace.KindLint && trace.LintCode(e.Arg0) == trace.LintOffLoop &&
				strings.Contains(tr.Name(e.Name), "from-worker") {
				found = true
			}
		}
		if !found {
			t.Error("no off-loop lint recorded for a future resolved on another goroutine")
		}
	})
}

func TestStallWatchdog(t *testing.T) {
	var stalled atomic.Pointer[engine.StallError]
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	l := engine.New(engine.Config{Recorder: rec, StallLimit: 40 * time.Millisecond, OnStall: func(e *engine.StallError) {
		stalled.CompareAndSwap(nil, e)
	}})
	recorders.Store(l, rec)
	run(t, l, func() {
		l.Queue("hog", func() {
			for stalled.Load() == nil {
			}
			l.Stop()
		})
	})
	if e := stalled.Load(); e.Handler != "hog" {
		t.Errorf("StallError.Handler = %q, want hog", e.Handler)
	}
}

// TestTriggers reads one byte per callback from a pipe holding three. Level
// triggering calls back until the pipe is empty; edge triggering calls back
// once for the one edge; one-shot calls back once per arming.
func TestTriggers(t *testing.T) {
	tests := []struct {
		name    string
		trigger engine.Trigger
		want    int
	}{
		{"level", engine.LevelTriggered, 3},
		{"edge", engine.EdgeTriggered, 1},
		{"oneshot", engine.OneShot, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			unix.Write(p[1], []byte("abc"))
			rec := trace.NewRecorder(0, 1<<16, time.Now())
			l := engine.New(engine.Config{Trigger: tt.trigger, Recorder: rec})
			recorders.Store(l, rec)
			calls := 0
			run(t, l, func() {
				_, err := l.OnReadable(p[0], "reader", func(uint32) {
					calls++
					var b [1]byte
					l.Sys().Read(p[0], b[:])
				})
				if err != nil {
					t.Fatal(err)
				}
				// Stop after a fixed number of loop turns, not after a time:
				// a loaded machine may run fewer turns in any given time.
				turns := 0
				var turn func()
				turn = func() {
					if turns++; turns == 20 {
						l.Stop()
						return
					}
					l.Queue("turn", turn)
				}
				l.Queue("turn", turn)
			})
			if calls != tt.want {
				t.Errorf("%s: callbacks = %d, want %d", tt.name, calls, tt.want)
			}
		})
	}
}
