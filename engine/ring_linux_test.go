package engine_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestRingBatches submits more NOPs than the ring holds, in batches, and
// checks every one completes once and each batch costs one enter.
func TestRingBatches(t *testing.T) {
	l := newLoop(t, engine.Uring)
	const n, batch = 100, 8
	seen := make(map[uint64]int)
	var enters int
	tr := run(t, l, func() {
		r, err := l.NewRing(batch)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cqes := make([]engine.CQE, batch)
		for next := 0; next < n; {
			k := 0
			for ; k < batch && next < n; k++ {
				if err := r.PrepNop(uint64(next)); err != nil {
					t.Fatalf("PrepNop(%d) = %v", next, err)
				}
				next++
			}
			if k == batch {
				if err := r.PrepNop(999); !errors.Is(err, engine.ErrSQFull) {
					t.Fatalf("PrepNop on a full SQ = %v, want ErrSQFull", err)
				}
			}
			if _, err := r.SubmitAndWait(k); err != nil {
				t.Fatal(err)
			}
			enters++
			for got := 0; got < k; {
				m := r.Reap(cqes)
				for _, c := range cqes[:m] {
					seen[c.UserData]++
				}
				got += m
			}
		}
		fd, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
		buf := make([]byte, 8)
		unix.Write(fd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		r.PrepRead(fd, buf, -1, 7)
		r.SubmitAndWait(1)
		if m := r.Reap(cqes); m != 1 || cqes[0].Res != 8 {
			t.Errorf("READ of an eventfd = %d CQEs, res %d; want 1, 8", m, cqes[0].Res)
		}
		unix.Close(fd)
		l.Stop()
	})
	for i := 0; i < n; i++ {
		if seen[uint64(i)] != 1 {
			t.Fatalf("NOP %d completed %d times, want 1", i, seen[uint64(i)])
		}
	}
	if got := count(tr, trace.KindSyscall, "io_uring_enter"); got < enters {
		t.Errorf("traced enters = %d, want at least %d", got, enters)
	}
}
