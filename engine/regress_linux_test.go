package engine_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// TestPollAddWritable: a POLL_ADD for POLLOUT on a writable socket
// completes at once, and does not hold up a read queued on the same fd.
func TestPollAddWritable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		l := newLoop(t, kind)
		var mask int
		run(t, l, func() {
			l.PollAdd(fds[0], sys.POLLOUT).Then(func(n int, err error) {
				mask = n
				l.Stop()
			})
		})
		if mask&sys.POLLOUT == 0 {
			t.Errorf("POLL_ADD(POLLOUT) = %#x, want POLLOUT set", mask)
		}
	})
}

// TestShortSend: a send larger than the socket buffer reports the bytes
// that really went out, on both backends.
func TestShortSend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		l := newLoop(t, kind)
		big := make([]byte, 8<<20)
		var sent int
		run(t, l, func() {
			l.Send(fds[0], big, 0).Then(func(n int, err error) {
				sent = n
				l.Stop()
			})
		})
		got := 0
		buf := make([]byte, 1<<20)
		for {
			n, err := unix.Read(fds[1], buf)
			if n <= 0 || err != nil {
				break
			}
			got += n
		}
		if sent != got || sent == 0 {
			t.Errorf("SEND reported %d bytes; the peer received %d", sent, got)
		}
	})
}

// TestCloseWithParkedOp: closing an fd with a read parked on it cancels the
// read, and a new fd that reuses the number works.
func TestCloseWithParkedOp(t *testing.T) {
	l := newLoop(t, engine.Epoll)
	var first error
	var second int
	run(t, l, func() {
		var p [2]int
		unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC)
		l.Read(p[0], make([]byte, 1), -1).Then(func(_ int, err error) { first = err })
		l.AfterFunc("close", 0, func() {
			l.Close(p[0]).Then(func(int, error) {
				unix.Close(p[1])
				var q [2]int
				unix.Pipe2(q[:], unix.O_NONBLOCK|unix.O_CLOEXEC) // reuses the numbers
				l.Read(q[0], make([]byte, 1), -1).Then(func(n int, err error) {
					second = n
					unix.Close(q[0])
					unix.Close(q[1])
					l.Stop()
				})
				unix.Write(q[1], []byte{1})
			})
		})
	})
	if !errors.Is(first, sys.ECANCELED) || second != 1 {
		t.Errorf("parked read = %v, read on the reused fd = %d; want ECANCELED and 1", first, second)
	}
}

// TestDrainWaitsForEarlierOps: a NOP with Drain completes only after the
// read queued before it, on both backends.
func TestDrainWaitsForEarlierOps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		l := newLoop(t, kind)
		var order []string
		run(t, l, func() {
			l.Read(p[0], make([]byte, 1), -1).Then(func(int, error) { order = append(order, "read") })
			l.Nop().Order(engine.Drain).Then(func(int, error) {
				order = append(order, "nop")
				l.Stop()
			})
			l.AfterFunc("writer", 5*time.Millisecond, func() { unix.Write(p[1], []byte{1}) })
		})
		if len(order) != 2 || order[0] != "read" {
			t.Errorf("completion order = %v, want [read nop]", order)
		}
	})
}

// TestLinkTimeoutDisarmedChainGoesOn: when the op a LINK_TIMEOUT bounds
// succeeds, the op linked after the timeout still runs.
func TestLinkTimeoutDisarmedChainGoesOn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		var last error = errors.New("never ran")
		run(t, l, func() {
			l.Nop().Order(engine.Link)
			l.LinkTimeout(time.Second).Order(engine.Link)
			l.Nop().Then(func(_ int, err error) {
				last = err
				l.Stop()
			})
		})
		if last != nil {
			t.Errorf("op after a disarmed link timeout = %v, want success", last)
		}
	})
}

// TestStopReleasesWaiters: a goroutine waiting on an op's future is
// released when the loop stops with the op still in flight, and io_uring
// ops are taken back from the kernel first.
func TestStopReleasesWaiters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		l := newLoop(t, kind)
		got := make(chan error, 1)
		run(t, l, func() {
			f := l.Read(p[0], make([]byte, 1), -1).Future()
			go func() {
				_, err := f.Wait()
				got <- err
			}()
			l.AfterFunc("stop", 10*time.Millisecond, l.Stop)
		})
		select {
		case err := <-got:
			if !errors.Is(err, sys.ECANCELED) {
				t.Errorf("Wait after Stop = %v, want ECANCELED", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a goroutine waiting on an op is still blocked after the loop stopped")
		}
	})
}
