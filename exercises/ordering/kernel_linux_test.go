package ordering_test

import (
	"slices"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/uring"
)

// TestKernelDrainMode checks what the instructions say of drains on this
// kernel, on a bare ring: a drained op leaves the ring in drain mode, so an
// op submitted after the drained one has completed still waits for a read
// that was in flight, until the ring is idle; without a drain it does not.
func TestKernelDrainMode(t *testing.T) {
	if st := uring.Check(); !st.Available {
		t.Skipf("io_uring unavailable: %s", st.Reason)
	}
	for _, tc := range []struct {
		name      string
		drain     bool
		waitsRead bool
	}{
		{"after-a-drain", true, true},
		{"no-drain", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := uring.Setup(uring.Options{Entries: 8})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			buf := make([]byte, 1)
			const nop, read, later = 1, 2, 3
			s := r.GetSQE()
			s.PrepNop()
			if tc.drain {
				s.Flags |= uring.SQEIODrain
			}
			s.UserData = nop
			s = r.GetSQE()
			s.PrepRead(p[0], uintptr(unsafe.Pointer(&buf[0])), 1, ^uint64(0))
			s.UserData = read
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			if got := reap(r, 20*time.Millisecond); !slices.Equal(got, []uint64{nop}) {
				t.Fatalf("first batch completed %v, want the NOP alone", got)
			}
			s = r.GetSQE()
			s.PrepNop()
			s.UserData = later
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			got := reap(r, 20*time.Millisecond)
			if waited := !slices.Contains(got, later); waited != tc.waitsRead {
				t.Errorf("a plain NOP submitted later completed at once: %v, want %v (completions %v)", !waited, !tc.waitsRead, got)
			}
			unix.Write(p[1], []byte{1})
			got = append(got, reap(r, 20*time.Millisecond)...)
			if !slices.Contains(got, read) || !slices.Contains(got, later) {
				t.Errorf("after the pipe write, completions %v; want the read and the NOP", got)
			}
			buf[0] = 0 // the kernel wrote it; keep it alive until here
		})
	}
}

// reap collects the user_data of the CQEs that come within d.
func reap(r *uring.Ring, d time.Duration) []uint64 {
	var out []uint64
	cq := make([]uring.CQE, 8)
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.SubmitAndWaitTimeout(1, time.Millisecond)
		n := r.Reap(cq)
		for _, c := range cq[:n] {
			out = append(out, c.UserData)
		}
	}
	return out
}
