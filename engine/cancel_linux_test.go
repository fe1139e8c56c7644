package engine_test

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestCancelRace races a cancel against a completion many times and checks
// that every target gets exactly one outcome: completed or cancelled, never
// both and never neither.
func TestCancelRace(t *testing.T) {
	const races = 10000
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })

		l := newLoopRec(t, kind, trace.NewRecorder(0, 1<<20, time.Now()))
		outcomes := make([]int, races) // callbacks seen per target
		var completed, cancelled int
		kick := make(chan *engine.Op)
		written := make(chan struct{})
		defer close(kick)
		// The racer writes the byte that completes the read while the loop,
		// after its own random delay, cancels the read: in the kernel on
		// io_uring, on the loop on epoll. Both sides of the race happen.
		go func() {
			rng := rand.New(rand.NewPCG(1, 2))
			one := []byte{1}
			for range kick {
				busy(rng.IntN(4000))
				unix.Write(p[1], one)
				written <- struct{}{}
			}
		}()
		rng := rand.New(rand.NewPCG(3, 4))

		var start func(i int)
		start = func(i int) {
			buf := make([]byte, 1)
			op := l.Read(p[0], buf, -1)
			op.OnDone(func(op *engine.Op) {
				outcomes[i]++
				// Wait for this race's write, so every race starts with an
				// empty pipe: a cancelled read leaves its byte behind.
				<-written
				switch _, err := op.Result(); err {
				case nil:
					completed++
				case sys.ECANCELED:
					cancelled++
					var b [1]byte
					if n, err := unix.Read(p[0], b[:]); n != 1 {
						t.Fatalf("race %d: draining the cancelled read's byte = %d, %v", i, n, err)
					}
				default:
					t.Errorf("race %d: result %v, want a byte or ECANCELED", i, err)
				}
				if op.State() != engine.OpDone {
					t.Errorf("race %d: state %v after completion, want done", i, op.State())
				}
				if i+1 == races {
					l.Stop()
					return
				}
				start(i + 1)
			})
			kick <- op
			delay := rng.IntN(4000)
			l.Queue("cancel", func() {
				busy(delay)
				op.Cancel()
			})
		}
		tr := run(t, l, func() { start(0) })
		if tr.Dropped > 0 {
			t.Fatalf("trace dropped %d events; the check below needs them all", tr.Dropped)
		}
		for _, e := range tr.Events {
			if e.Kind == trace.KindMark && strings.Contains(tr.Name(e.Name), "second completion") {
				t.Fatalf("op %#x completed twice", e.Op)
			}
		}

		for i, n := range outcomes {
			if n != 1 {
				t.Fatalf("race %d: %d outcomes, want exactly 1", i, n)
			}
		}
		t.Logf("%s: %d completed, %d cancelled of %d races", kind, completed, cancelled, races)
		if completed == 0 || cancelled == 0 {
			t.Errorf("completed %d, cancelled %d: the race never went both ways", completed, cancelled)
		}
	})
}

// busy spins for about n iterations without calling into the runtime.
func busy(n int) {
	x := 0
	for i := 0; i < n; i++ {
		x += i
	}
	sink.Store(int64(x))
}

var sink atomic.Int64

// spin burns CPU on the loop for d: a handler doing real work.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
