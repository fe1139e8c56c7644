package engine_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestHarnessCallbacksCarryTheKey runs a harness's callbacks of every kind
// beside a handler's on the real backends: each of the harness's carries
// its key in the trace and the handler's carry none, so that an analysis
// given the key charges the handler only for its own long callback.
func TestHarnessCallbacksCarryTheKey(t *testing.T) {
	const key = 0x5eed
	for _, kind := range []engine.Kind{engine.Epoll, engine.Uring} {
		t.Run(string(kind), func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fds[0])
			defer unix.Close(fds[1])
			rec := trace.NewRecorder(0, 1<<16, time.Now())
			l := engine.New(engine.Config{Backend: kind, Recorder: rec})
			h := l.Harness(key)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = h.Run(ctx, "harness: start", func() {
				h.Queue("harness: queued", func() { time.Sleep(30 * time.Millisecond) })
				l.Queue("handler: queued", func() { time.Sleep(30 * time.Millisecond) })
				var w *engine.Watch
				w, err := h.OnWritable(fds[0], "harness: writable", func(uint32) {
					w.Stop()
					go h.Post("harness: posted", func() {
						h.AfterFunc("harness: timer", time.Millisecond, func() {
							l.AfterFunc("handler: timer", time.Millisecond, l.Stop)
						})
					})
				})
				if err != nil {
					t.Errorf("OnWritable: %v", err)
					l.Stop()
				}
			})
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			tr := rec.Snapshot()
			want := map[string]int64{
				"harness: start": key, "harness: queued": key, "harness: writable": key, "harness: posted": key, "harness: timer": key,
				"handler: queued": 0, "handler: timer": 0,
			}
			seen := map[string]bool{}
			for _, e := range tr.Events {
				name := tr.Name(e.Name)
				k, ok := want[name]
				if !ok || (e.Kind != trace.KindTimer && (e.Kind != trace.KindHandler || e.Phase != trace.PhaseBegin)) {
					continue
				}
				seen[name] = true
				if e.Arg1 != k {
					t.Errorf("%s %s of %q: Arg1 = %#x, want %#x", e.Kind, e.Phase, name, e.Arg1, k)
				}
			}
			for name := range want {
				if !seen[name] {
					t.Errorf("no callback %q in the trace", name)
				}
			}
			var long []string
			for _, f := range trace.Analyze(tr, trace.LintOptions{LongHandler: 20 * time.Millisecond, Harness: key}) {
				if f.Code == trace.LintLongHandler {
					long = append(long, f.Subject)
				}
			}
			if len(long) != 1 || long[0] != "handler: queued" {
				t.Errorf("long handlers = %q, want only the handler's own [\"handler: queued\"]", long)
			}
		})
	}
}
