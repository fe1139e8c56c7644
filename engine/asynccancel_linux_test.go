package engine_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// cancelOutcome is what one AsyncCancel and its target reported, in the
// order their callbacks ran.
type cancelOutcome struct {
	answer, target error
	n              int
	order          string // "target,cancel" or "cancel,target"
}

// raceAsyncCancel starts a one-byte receive on an empty socket and, once
// it is in the kernel, cancels it with AsyncCancel. With write set, the byte is
// written by another goroutine after the cancel is queued but before the
// loop submits it, while the loop spins without a system call: on io_uring
// the kernel has then woken the read, and the cancel comes too late.
func raceAsyncCancel(t *testing.T, kind engine.Kind, write bool, rounds int) []cancelOutcome {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	kick, wrote := make(chan struct{}), make(chan struct{}, 1)
	var written atomic.Bool
	go func() {
		for range kick {
			unix.Write(p[1], []byte{1})
			written.Store(true)
			wrote <- struct{}{}
		}
	}()
	defer close(kick)

	l := newLoop(t, kind)
	out := make([]cancelOutcome, rounds)
	var round func(i int)
	round = func(i int) {
		buf := make([]byte, 1)
		read := l.Recv(p[0], buf, 0)
		o := &out[i]
		pending := 2
		next := func(who string) {
			if o.order != "" {
				o.order += ","
			}
			o.order += who
			if pending--; pending > 0 {
				return
			}
			if write {
				<-wrote
				if o.target != nil { // the byte is still in the pipe
					unix.Read(p[0], buf)
				}
				written.Store(false)
			}
			if i+1 == rounds {
				l.Stop()
				return
			}
			round(i + 1)
		}
		read.Then(func(n int, err error) { o.n, o.target = n, err; next("target") })
		// The NOP is submitted with the receive: once it is back, the
		// receive is armed in the kernel.
		l.Nop().Then(func(int, error) {
			c := l.AsyncCancel(read)
			c.Then(func(_ int, err error) { o.answer = err; next("cancel") })
			if write {
				kick <- struct{}{}
				for deadline := time.Now().Add(100 * time.Millisecond); !written.Load() && time.Now().Before(deadline); {
				}
			}
		})
	}
	run(t, l, func() { round(0) })
	return out
}

func TestAsyncCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		t.Run("pending", func(t *testing.T) {
			for i, o := range raceAsyncCancel(t, kind, false, 20) {
				if o.answer != nil || !errors.Is(o.target, sys.ECANCELED) {
					t.Fatalf("round %d: cancel of a waiting read answered %v, read %v; want nil and ECANCELED", i, o.answer, o.target)
				}
				if kind == engine.Epoll && o.order != "target,cancel" {
					t.Fatalf("round %d: on epoll the callbacks ran %s; want the target's first", i, o.order)
				}
			}
		})
		t.Run("done", func(t *testing.T) {
			l := newLoop(t, kind)
			var answer error
			run(t, l, func() {
				nop := l.Nop()
				nop.Then(func(int, error) {
					l.AsyncCancel(nop).Then(func(_ int, err error) { answer = err; l.Stop() })
				})
			})
			if !errors.Is(answer, sys.ENOENT) {
				t.Errorf("cancel of a completed op answered %v, want ENOENT", answer)
			}
		})
		t.Run("woken", func(t *testing.T) {
			// The bytes arrive after the cancel is queued and before the loop
			// submits it. On epoll the cancel runs first, on the loop, and
			// wins. On io_uring the kernel has woken the read: it either ran
			// already (ENOENT, the read has the byte) or is marked cancelled
			// before it runs (0, ECANCELED, the byte stays in the socket).
			// It is never "running", so never EALREADY.
			const rounds = 100
			counts := map[string]int{}
			for i, o := range raceAsyncCancel(t, kind, true, rounds) {
				counts[errName(o.answer)+"/"+errName(o.target)]++
				stopped := o.answer == nil && errors.Is(o.target, sys.ECANCELED)
				tooLate := errors.Is(o.answer, sys.ENOENT) && o.target == nil && o.n == 1
				switch {
				case kind == engine.Epoll && !stopped:
					t.Fatalf("round %d: on epoll a cancel that runs before the loop polls answered %v, read %v; want nil and ECANCELED", i, o.answer, o.target)
				case !stopped && !tooLate:
					t.Fatalf("round %d: cancel answered %v and the read ended %d, %v; want nil with ECANCELED, or ENOENT with the byte", i, o.answer, o.n, o.target)
				}
			}
			t.Logf("%s: cancel/read outcomes over %d rounds: %v", kind, rounds, counts)
		})
		t.Run("running", func(t *testing.T) {
			counts := runningCancels(t, kind, 20)
			t.Logf("%s: cancel/read outcomes of a file read cancelled while it copies: %v", kind, counts)
			switch {
			case kind == engine.Epoll && counts["ENOENT/ok"] != 20:
				t.Errorf("on epoll a file read is a pread on the loop, done before any cancel: got %v, want ENOENT every time", counts)
			case kind == engine.Uring && counts["EALREADY/ok"] == 0:
				t.Errorf("no cancel of a file read an io-wq worker was copying answered EALREADY: %v", counts)
			}
		})
	})
}

// runningCancels reads an 8 MiB memfd with Order(Async), which io_uring
// hands to an io-wq worker that copies it for a millisecond or more, and
// cancels each read from a loop timer at about 30% of the copy. It counts
// "answer/result" pairs, checking that an EALREADY cancel completes before
// its read, which still delivers every byte.
func runningCancels(t *testing.T, kind engine.Kind, rounds int) map[string]int {
	t.Helper()
	fd, err := unix.MemfdCreate("running", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	const size = 8 << 20
	if _, err := unix.Pwrite(fd, make([]byte, size), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	counts := map[string]int{}
	l := newLoop(t, kind)
	var copyTime time.Duration
	run(t, l, func() {
		var round func(i int)
		round = func(i int) {
			if i == rounds+3 {
				l.Stop()
				return
			}
			start := time.Now()
			read := l.Read(fd, buf, 0).Order(engine.Async)
			var o cancelOutcome
			pending := 2
			next := func(who string) {
				if o.order != "" {
					o.order += ","
				}
				o.order += who
				if pending--; pending > 0 {
					return
				}
				counts[errName(o.answer)+"/"+errName(o.target)]++
				if errors.Is(o.answer, sys.EALREADY) && (o.n != size || o.order != "cancel,target") {
					t.Errorf("round %d: EALREADY, then the read ended %d, %v, callbacks %s; want all %d bytes, after the cancel", i, o.n, o.target, o.order, size)
				}
				l.Queue("next", func() { round(i + 1) })
			}
			if i < 3 { // warm-ups: the first also starts the worker
				read.Then(func(int, error) {
					if d := time.Since(start); copyTime == 0 || d < copyTime {
						copyTime = d
					}
					l.Queue("next", func() { round(i + 1) })
				})
				return
			}
			read.Then(func(n int, err error) { o.n, o.target = n, err; next("target") })
			l.AfterFunc("cancel", copyTime*3/10, func() {
				l.AsyncCancel(read).Then(func(_ int, err error) { o.answer = err; next("cancel") })
			})
		}
		round(0)
	})
	t.Logf("%s: an 8 MiB copy takes %v", kind, copyTime)
	return counts
}

func errName(err error) string {
	var e sys.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(unix.Errno(e))
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}
