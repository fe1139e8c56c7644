package uring

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkNOP measures a NOP round trip through the ring with B NOPs per
// io_uring_enter. ns/op is per NOP; the fixed cost of one enter divides by
// the batch size.
func BenchmarkNOP(b *testing.B) {
	for _, batch := range []int{1, 2, 4, 8, 16, 32, 64, 128, 256} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			r := newRing(b, Options{Entries: 256})
			cqes := make([]CQE, batch)
			enters := 0
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(batch, b.N-done)
				for i := range n {
					s := r.GetSQE()
					s.PrepNop()
					s.UserData = uint64(done + i)
				}
				if _, err := r.SubmitAndWait(uint32(n)); err != nil {
					b.Fatal(err)
				}
				enters++
				for got := 0; got < n; {
					k := r.Reap(cqes[:n-got])
					got += k
					if k == 0 {
						if _, err := r.Enter(0, uint32(n-got), EnterGetEvents); err != nil {
							b.Fatal(err)
						}
						enters++
					}
				}
				done += n
			}
			b.ReportMetric(float64(enters)/float64(b.N), "enters/op")
		})
	}
}

// semaphoreEventfd returns an eventfd in semaphore mode holding a huge
// count, so every 8-byte read succeeds and it stays readable.
func semaphoreEventfd(b *testing.B) int {
	efd, err := unix.Eventfd(0, unix.EFD_SEMAPHORE|unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(efd) })
	one := []byte{0, 0, 0, 0, 0, 0, 0, 0x10} // 1<<60, little-endian
	if _, err := unix.Write(efd, one); err != nil {
		b.Fatal(err)
	}
	return efd
}

// BenchmarkEpollRead is the readiness-op baseline: one epoll_wait that
// finds the fd ready (level-triggered, timeout 0) plus one read, per op.
func BenchmarkEpollRead(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	efd := semaphoreEventfd(b)
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(epfd)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		b.Fatal(err)
	}
	events := make([]unix.EpollEvent, 8)
	buf := make([]byte, 8)
	b.ResetTimer()
	for range b.N {
		n, err := unix.EpollWait(epfd, events, 0)
		if err != nil || n != 1 {
			b.Fatalf("EpollWait = %d, %v; want 1, nil", n, err)
		}
		if _, err := unix.Read(efd, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRingRead is the completion-side counterpart of
// BenchmarkEpollRead: 8-byte READs of the same kind of eventfd, B per
// enter. ns/op is per READ.
func BenchmarkRingRead(b *testing.B) {
	for _, batch := range []int{1, 8, 64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			r := newRing(b, Options{Entries: 256})
			efd := semaphoreEventfd(b)
			buf := make([]byte, 8)
			addr := pinBytes(b, buf)
			cqes := make([]CQE, batch)
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(batch, b.N-done)
				for range n {
					r.GetSQE().PrepRead(efd, addr, 8, 0)
				}
				if _, err := r.SubmitAndWait(uint32(n)); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < n; {
					k := r.Reap(cqes[:n-got])
					for _, c := range cqes[:k] {
						if c.Res != 8 {
							b.Fatalf("READ res = %d, want 8", c.Res)
						}
					}
					got += k
					if k == 0 {
						if _, err := r.Enter(0, uint32(n-got), EnterGetEvents); err != nil {
							b.Fatal(err)
						}
					}
				}
				done += n
			}
		})
	}
}

// BenchmarkSetupRestricted sets up and closes a 32-entry ring, alternately
// unrestricted and restricted to the engine's thirteen ops, and reports
// each one's time and their ratio, measured in the same run. ns/op is one
// pair.
func BenchmarkSetupRestricted(b *testing.B) {
	if st := hostStatus(); !st.Available {
		b.Skip(st.Reason)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rs := &Restrictions{Ops: NeededOps, SQEFlags: SQEIOLink | SQEIOHardlink | SQEIODrain | SQEAsync}
	var plain, restricted time.Duration
	for b.Loop() {
		for _, opts := range []Options{{Entries: 32}, {Entries: 32, Restrict: rs}} {
			start := time.Now()
			r, err := Setup(opts)
			if err != nil {
				b.Fatal(err)
			}
			r.Close()
			if opts.Restrict != nil {
				restricted += time.Since(start)
			} else {
				plain += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "plain-ns/setup")
	b.ReportMetric(float64(restricted.Nanoseconds())/float64(b.N), "restricted-ns/setup")
	b.ReportMetric(float64(restricted)/float64(plain), "restricted/plain")
}

// BenchmarkNOPRestricted runs batches of 32 NOPs alternately on an
// unrestricted ring and on one restricted to the engine's ops, and reports
// the time per NOP on each and their ratio, measured in the same run: the
// kernel checks every SQE of a restricted ring against its restrictions.
func BenchmarkNOPRestricted(b *testing.B) {
	const batch = 32
	rs := &Restrictions{Ops: NeededOps, SQEFlags: SQEIOLink | SQEIOHardlink | SQEIODrain | SQEAsync}
	rings := []*Ring{newRing(b, Options{Entries: batch}), newRing(b, Options{Entries: batch, Restrict: rs})}
	var took [2]time.Duration
	cqes := make([]CQE, batch)
	for b.Loop() {
		for i, r := range rings {
			start := time.Now()
			for range batch {
				r.GetSQE().PrepNop()
			}
			if _, err := r.SubmitAndWait(batch); err != nil {
				b.Fatal(err)
			}
			for got := 0; got < batch; {
				got += r.Reap(cqes)
			}
			took[i] += time.Since(start)
		}
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(took[0].Nanoseconds())/n, "plain-ns/nop")
	b.ReportMetric(float64(took[1].Nanoseconds())/n, "restricted-ns/nop")
	b.ReportMetric(float64(took[1])/float64(took[0]), "restricted/plain")
}
