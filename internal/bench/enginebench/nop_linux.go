package enginebench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// NOPRing runs ops NOPs through r, batch at a time: batch GetSQE+PrepNop,
// one SubmitAndWait(batch), then reap them all. It returns how many times
// it entered the kernel. The caller must own r's thread.
func NOPRing(r *uring.Ring, cqes []uring.CQE, batch, ops int) (enters int, err error) {
	if len(cqes) < batch {
		return 0, fmt.Errorf("enginebench: %d CQE slots for batch %d", len(cqes), batch)
	}
	for done := 0; done < ops; {
		n := min(batch, ops-done)
		for range n {
			sqe := r.GetSQE()
			if sqe == nil {
				return enters, errors.New("enginebench: SQ full")
			}
			sqe.PrepNop()
		}
		if _, err := r.SubmitAndWait(uint32(n)); err != nil {
			return enters, err
		}
		enters++
		for got := 0; got < n; {
			k := r.Reap(cqes[:n-got])
			for _, c := range cqes[:k] {
				if c.Res != 0 {
					return enters, fmt.Errorf("enginebench: NOP res = %d, want 0", c.Res)
				}
			}
			got += k
			if k == 0 {
				if _, err := r.Enter(0, uint32(n-got), uring.EnterGetEvents); err != nil {
					return enters, err
				}
				enters++
			}
		}
		done += n
	}
	return enters, nil
}

// EpollRead is the readiness baseline: it runs ops rounds of one
// epoll_wait(timeout 0) that finds a level-triggered eventfd ready plus one
// 8-byte read of it. The caller should hold its OS thread.
type EpollRead struct {
	epfd, efd int
	events    []unix.EpollEvent
	buf       []byte
}

// NewEpollRead sets up an epoll instance watching an eventfd in semaphore
// mode that holds a huge count, so it stays readable and every read
// succeeds.
func NewEpollRead() (*EpollRead, error) {
	efd, err := unix.Eventfd(0, unix.EFD_SEMAPHORE|unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	one := []byte{0, 0, 0, 0, 0, 0, 0, 0x10} // 1<<60, little-endian
	if _, err := unix.Write(efd, one); err != nil {
		unix.Close(efd)
		return nil, fmt.Errorf("write eventfd: %w", err)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(efd)
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &EpollRead{epfd: epfd, efd: efd, events: make([]unix.EpollEvent, 8), buf: make([]byte, 8)}, nil
}

// Run does ops rounds of epoll_wait + read.
func (e *EpollRead) Run(ops int) error {
	for range ops {
		n, err := unix.EpollWait(e.epfd, e.events, 0)
		if err == unix.EINTR {
			n, err = unix.EpollWait(e.epfd, e.events, 0)
		}
		if err != nil || n != 1 {
			return fmt.Errorf("epoll_wait = %d, %v; want 1, nil", n, err)
		}
		if _, err := unix.Read(e.efd, e.buf); err != nil {
			return fmt.Errorf("read eventfd: %w", err)
		}
	}
	return nil
}

// Close releases the descriptors.
func (e *EpollRead) Close() error {
	unix.Close(e.efd)
	return unix.Close(e.epfd)
}

// Getpid calls getpid ops times through unix.Syscall: the cost of the
// cheapest system call with the runtime's entersyscall/exitsyscall around
// it.
func Getpid(ops int) {
	for range ops {
		unix.Syscall(unix.SYS_GETPID, 0, 0, 0)
	}
}

// LoopNOP runs ops NOPs through a loop on backend: batch ops are created
// with l.Nop().OnDone, and each one resubmits itself from its callback
// until ops have completed, so every turn of the loop submits a batch.
// With traced set the recorder is on and a goroutine drains it. It returns
// the time per NOP after a warm-up of ops/8, the events drained and the
// events dropped. It must be called on a goroutine that may lock its thread.
func LoopNOP(ctx context.Context, backend engine.Kind, traced bool, batch, ops int) (perOp time.Duration, events, dropped uint64, err error) {
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	rec.SetEnabled(traced)
	l := engine.New(engine.Config{Backend: backend, TrustHandlers: true, Recorder: rec})
	var st ServerStats
	stopDrain := func() {}
	if traced {
		stopDrain = drainRecorder(rec, &st)
	}
	warm := ops / 8
	total := ops + warm
	var issued, completed int
	var start time.Time
	var elapsed time.Duration
	err = l.Run(ctx, "loop-nop", func() {
		cb := func(op *engine.Op) {
			completed++
			if completed == warm {
				start = time.Now()
			}
			if completed == total {
				elapsed = time.Since(start)
				l.Stop()
				return
			}
			if issued < total {
				issued++
				op.Resubmit()
			}
		}
		for range min(batch, total) {
			issued++
			l.Nop().OnDone(cb)
		}
	})
	stopDrain()
	events = st.Events.Load()
	if err != nil {
		return 0, 0, 0, err
	}
	if warm == 0 {
		return 0, 0, 0, errors.New("enginebench: too few ops")
	}
	return elapsed / time.Duration(ops), events, rec.Dropped(), nil
}

// drainRecorder starts a goroutine that drains rec every millisecond, as a
// trace viewer would, counting into st, and returns a function that stops
// it after a last drain.
func drainRecorder(rec *trace.Recorder, st *ServerStats) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var buf []trace.Event
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			buf = rec.Drain(buf[:0])
			st.Events.Add(uint64(len(buf)))
			st.Dropped.Store(rec.Dropped())
			select {
			case <-done:
				buf = rec.Drain(buf[:0])
				st.Events.Add(uint64(len(buf)))
				st.Dropped.Store(rec.Dropped())
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
