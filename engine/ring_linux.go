package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// Ring is a raw io_uring ring for the exercises that teach the ring itself:
// prepare SQEs, submit them with one io_uring_enter, reap CQEs. It is
// separate from the loop's own ring, so its user_data values are the
// handler's to choose. Every buffer handed to Prep* is kept alive until its
// CQE has been reaped. A Ring is owned by the loop that created it.
type Ring struct {
	l    *Loop
	r    *uring.Ring
	keep map[uint64][]byte
	cqes []uring.CQE
}

// CQE is one completion: the user_data of the SQE, its result (>= 0, or
// -errno) and the CQE flags.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// ErrSQFull is returned by a Prep method when every SQ slot is taken:
// submit first.
var ErrSQFull = errors.New("engine: submission queue full, submit first")

// rawRingRestrictions is everything a Ring may do: the opcodes of its
// Prep methods, no SQE flags (they set none) and no io_uring_register.
// The handler holds this ring, so anything else it allowed a handler could
// issue.
var rawRingRestrictions = uring.Restrictions{
	Ops: []uring.Opcode{uring.OpNop, uring.OpRead, uring.OpWrite}, // PrepNop, PrepRead, PrepWrite
}

// NewRing sets up a raw ring with entries SQ slots (rounded up to a power of
// two by the kernel). The ring is restricted to the ops of its Prep methods;
// on kernels that cannot restrict a ring (before 5.10) NewRing fails.
func (l *Loop) NewRing(entries uint32) (*Ring, error) {
	l.mustOnLoop("NewRing")
	r, err := uring.Setup(uring.Options{Entries: entries, Restrict: &rawRingRestrictions})
	if err != nil {
		return nil, fmt.Errorf("new ring: %w", err)
	}
	return &Ring{l: l, r: r, keep: make(map[uint64][]byte), cqes: make([]uring.CQE, r.CQEntries())}, nil
}

// Entries returns the number of SQ slots.
func (r *Ring) Entries() int { return int(r.r.SQEntries()) }

// SQSpace returns how many SQEs can be prepared before a submit.
func (r *Ring) SQSpace() int { return int(r.r.SQSpace()) }

// SQPending returns the SQEs prepared but not yet consumed by the kernel.
func (r *Ring) SQPending() int { return int(r.r.SQPending()) }

// CQReady returns the CQEs waiting to be reaped.
func (r *Ring) CQReady() int { return int(r.r.CQReady()) }

func (r *Ring) sqe(kind OpKind, fd int, userData uint64, buf []byte) (*uring.SQE, error) {
	sqe := r.r.GetSQE()
	if sqe == nil {
		return nil, ErrSQFull
	}
	if buf != nil {
		r.keep[userData] = buf
	}
	l := r.l
	l.rec.Emit(trace.Event{Kind: trace.KindSubmit, Time: l.stamp(), Op: userData, Fd: int32(fd),
		Name: l.names.op(kind), Arg1: int64(len(buf))})
	return sqe, nil
}

// PrepNop prepares a NOP.
func (r *Ring) PrepNop(userData uint64) error {
	sqe, err := r.sqe(OpNop, -1, userData, nil)
	if err != nil {
		return err
	}
	sqe.PrepNop()
	sqe.UserData = userData
	return nil
}

// PrepRead prepares a READ of len(buf) bytes from fd at off (-1: the
// current position).
func (r *Ring) PrepRead(fd int, buf []byte, off int64, userData uint64) error {
	sqe, err := r.sqe(OpRead, fd, userData, buf)
	if err != nil {
		return err
	}
	sqe.PrepRead(fd, bufAddr(buf), uint32(len(buf)), uint64(off))
	sqe.UserData = userData
	return nil
}

// PrepWrite prepares a WRITE of buf to fd at off (-1: the current position).
func (r *Ring) PrepWrite(fd int, buf []byte, off int64, userData uint64) error {
	sqe, err := r.sqe(OpWrite, fd, userData, buf)
	if err != nil {
		return err
	}
	sqe.PrepWrite(fd, bufAddr(buf), uint32(len(buf)), uint64(off))
	sqe.UserData = userData
	return nil
}

// Submit hands the prepared SQEs to the kernel with one io_uring_enter and
// does not wait. It returns how many the kernel consumed.
func (r *Ring) Submit() (int, error) { return r.enter(0) }

// SubmitAndWait submits and blocks the loop until at least n CQEs are
// ready. Blocking the loop is the point here: the batching exercise
// measures the cost of each enter.
func (r *Ring) SubmitAndWait(n int) (int, error) { return r.enter(n) }

func (r *Ring) enter(wait int) (int, error) {
	l := r.l
	toSubmit := r.r.SQPending()
	start := l.stamp()
	var n int
	var err error
	if wait > 0 {
		n, err = r.r.SubmitAndWait(uint32(wait))
	} else {
		n, err = r.r.Submit()
	}
	res := int64(n)
	if err != nil {
		res = -1
	}
	l.rec.Emit(trace.Event{Kind: trace.KindSyscall, Time: start, Dur: l.stamp() - start, Name: l.names.uringEnter,
		Fd: int32(r.r.Fd()), Res: res, Arg0: int64(toSubmit), Arg1: int64(wait)})
	l.counter(counterSQPending, l.names.sqPending, int64(r.r.SQPending()))
	l.counter(counterCQReady, l.names.cqReady, int64(r.r.CQReady()))
	return n, err
}

// Reap copies up to len(dst) ready CQEs into dst and returns how many. The
// buffers of reaped ops are released.
func (r *Ring) Reap(dst []CQE) int {
	l := r.l
	n := r.r.Reap(r.cqes[:min(len(dst), len(r.cqes))])
	now := l.stamp()
	for i, c := range r.cqes[:n] {
		dst[i] = CQE{UserData: c.UserData, Res: c.Res, Flags: c.Flags}
		delete(r.keep, c.UserData)
		l.rec.Emit(trace.Event{Kind: trace.KindComplete, Time: now, Op: c.UserData, Res: int64(c.Res),
			Arg0: int64(c.Flags), Fd: -1})
	}
	return n
}

// Close releases the ring. Ops still in flight are waited for first, so the
// kernel never writes into memory that is no longer kept alive.
func (r *Ring) Close() error {
	for len(r.keep) > 0 {
		if _, err := r.r.SubmitAndWait(1); err != nil {
			break
		}
		for _, c := range r.cqes[:r.r.Reap(r.cqes)] {
			delete(r.keep, c.UserData)
		}
	}
	return r.r.Close()
}

// RingRestrictions returns copies of what the engine's rings may do: loop
// for the loop's own ring, raw for the rings NewRing makes. The sandbox's
// tests set up rings with them to show what a program that reaches those
// rings can and cannot do.
func RingRestrictions() (loop, raw uring.Restrictions) {
	clone := func(rs uring.Restrictions) uring.Restrictions {
		rs.Ops = slices.Clone(rs.Ops)
		rs.RegisterOps = slices.Clone(rs.RegisterOps)
		return rs
	}
	return clone(loopRingRestrictions), clone(rawRingRestrictions)
}
