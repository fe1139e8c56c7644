package engine

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// uringBackend submits ops as SQEs and completes them from CQEs. Ops
// created during one turn of the loop are written to the SQ together and
// submitted with one io_uring_enter, which is also the call that waits.
type uringBackend struct {
	l      *Loop
	ring   *uring.Ring
	wakefd int
	wakeOp *Op
	// wakePolling: the wake READ was retired around a drained op, so a
	// blocked wait also looks for posts every wakePoll, until a wake READ
	// armed after it has completed (see rearmWake).
	wakePolling bool
	retired     *Op // a wake READ retired before it reached the SQ
	pending     []*Op
	cqes        []uring.CQE
	busy        bool // the last reap found completions

	// Trace times that several events share, so that the clock is read once
	// for them: the submits written to the SQ in one flush, and the CQEs one
	// io_uring_enter returned.
	submitAt int64 // time of this flush's submit events; -1 until the first
	enterEnd int64 // when the last io_uring_enter returned
}

var _ backend = (*uringBackend)(nil)

// loopRingRestrictions is everything the loop's ring may do: the opcodes
// prep writes, one for each OpKind, and the SQE flags Order.sqeFlags sets.
// POLL_REMOVE is not there (unwatch cancels with ASYNC_CANCEL), nor any
// opcode that makes a descriptor from nothing (SOCKET, OPENAT, ...): an op
// cannot create a socket of a family the box's seccomp filter refuses to
// socket(2). The loop never calls io_uring_register once the ring is
// enabled, so no register opcode is allowed.
var loopRingRestrictions = uring.Restrictions{
	Ops: []uring.Opcode{
		uring.OpNop,         // OpNop
		uring.OpRead,        // OpRead, and the wake eventfd's READ
		uring.OpWrite,       // OpWrite
		uring.OpRecv,        // OpRecv
		uring.OpSend,        // OpSend
		uring.OpConnect,     // OpConnect
		uring.OpAccept,      // OpAccept
		uring.OpPollAdd,     // OpPollAdd, and watches
		uring.OpTimeout,     // OpTimeout
		uring.OpLinkTimeout, // OpLinkTimeout
		uring.OpAsyncCancel, // Cancel, unwatch, and retiring the wake READ
		uring.OpFsync,       // OpFsync
		uring.OpClose,       // OpClose
	},
	// Link, HardLink, Drain, Async. Not FIXED_FILE or BUFFER_SELECT: the
	// loop registers no files and provides no buffers.
	SQEFlags: uring.SQEIOLink | uring.SQEIOHardlink | uring.SQEIODrain | uring.SQEAsync,
}

// newUringBackend sets up the loop's ring, restricted to
// loopRingRestrictions. Where the kernel cannot restrict a ring (before
// 5.10) it fails, and the loop falls back to epoll if allowed to: an
// unrestricted ring would let a handler that reaches it issue any op.
func newUringBackend(l *Loop) (*uringBackend, error) {
	st := uring.Check()
	if !st.Available {
		return nil, fmt.Errorf("io_uring unavailable: %s", st.Reason)
	}
	ring, err := uring.Setup(uring.Options{Entries: l.cfg.Entries, Restrict: &loopRingRestrictions})
	if err != nil {
		return nil, fmt.Errorf("io_uring setup: %w", err)
	}
	if ring.Features()&uring.FeatExtArg == 0 {
		ring.Close()
		return nil, fmt.Errorf("io_uring: kernel lacks IORING_FEAT_EXT_ARG (5.11)")
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		ring.Close()
		return nil, os.NewSyscallError("eventfd", err)
	}
	b := &uringBackend{l: l, ring: ring, wakefd: wakefd, cqes: make([]uring.CQE, 256)}
	l.be = b
	b.armWake()
	return b, nil
}

// armWake keeps a READ on the wake eventfd in the ring, so that Post can
// interrupt a blocked io_uring_enter.
func (b *uringBackend) armWake() {
	op := &Op{l: b.l, kind: OpRead, name: b.l.names.wake, fd: b.wakefd, buf: make([]byte, 8), off: -1}
	op.complete = func() {}
	b.wakeOp = op
	b.l.startOp(op)
}

// close closes the ring. The kernel tears a ring down in the background,
// and an op still in flight (a read in an io-wq worker, say) may write its
// buffer after that: so every such op, with its buffers, is kept reachable
// for the life of the process. It costs a little memory per op a run left
// behind, and rules out the kernel writing into freed memory.
func (b *uringBackend) close() error {
	b.l.inflight.each(func(op *Op) { abandoned.keep(op) })
	unix.Close(b.wakefd)
	return b.ring.Close()
}

// abandoned holds what the kernel may still write into after a ring closed.
var abandoned keepAlive

type keepAlive struct {
	mu   sync.Mutex
	objs []any
}

func (k *keepAlive) keep(v any) {
	k.mu.Lock()
	k.objs = append(k.objs, v)
	k.mu.Unlock()
}

func (b *uringBackend) wake() {
	var one = [8]byte{1}
	unix.Write(b.wakefd, one[:])
}

func (b *uringBackend) queue(op *Op) { b.pending = append(b.pending, op) }

func (b *uringBackend) cancel(op *Op) {
	c := &Op{l: b.l, kind: OpAsyncCancel, name: b.l.names.op(OpAsyncCancel), fd: -1, target: op.id}
	c.complete = func() {}
	b.l.startOp(c)
}

func (b *uringBackend) watch(w *Watch) error {
	b.armPoll(w)
	return nil
}

// armPoll arms a one-shot POLL_ADD for w. Arming again after every callback
// gives level-triggered behaviour: poll checks readiness when armed.
func (b *uringBackend) armPoll(w *Watch) {
	op := &Op{l: b.l, kind: OpPollAdd, name: b.l.names.op(OpPollAdd), fd: w.fd, flags: w.events}
	op.complete = func() {}
	op.cb = func(op *Op) {}
	w.poll = op
	b.l.startOp(op)
	op.complete = func() {
		if w.poll == op {
			w.poll = nil
		}
		if op.res >= 0 {
			w.fire(uint32(op.res))
		} else if op.res != -int32(unix.ECANCELED) && w.active {
			w.fire(unix.EPOLLERR)
		}
	}
}

func (b *uringBackend) unwatch(w *Watch) error {
	if w.poll != nil {
		w.poll.Cancel()
		w.poll = nil
	}
	return nil
}

func (b *uringBackend) rearm(w *Watch) {
	if w.active && w.poll == nil {
		b.armPoll(w)
	}
}

// flush writes every queued op into the SQ. When the SQ is full it submits
// what it has and continues, so no op is lost when a turn queues more ops
// than the ring holds.
func (b *uringBackend) flush() error {
	b.submitAt = -1
	for len(b.pending) > 0 {
		ops := b.pending
		b.pending = nil
		for i, op := range ops {
			if op.order&Drain != 0 {
				// A drained op waits for every earlier SQE, and the wake
				// READ never completes by itself: retire it first. A new
				// one is armed once the ring is idle (see rearmWake).
				b.retireWake()
			}
			if op == b.retired {
				b.retired = nil // retired before it reached the SQ
				continue
			}
			if err := b.push(op); err != nil {
				b.pending = append(ops[i:], b.pending...)
				return err
			}
		}
	}
	return nil
}

// push writes op into the next SQE, submitting first if the SQ is full.
func (b *uringBackend) push(op *Op) error {
	sqe := b.ring.GetSQE()
	if sqe == nil {
		if err := b.enter(b.ring.SQPending(), 0, 0); err != nil {
			return err
		}
		b.submitAt = -1 // the SQEs after this enter are written later
		if sqe = b.ring.GetSQE(); sqe == nil {
			return fmt.Errorf("io_uring: SQ still full after submit")
		}
	}
	b.prep(sqe, op)
	return nil
}

// retireWake makes the armed wake READ complete, and arms no other. Posts
// made meanwhile are not lost: wait looks for them (see rearmWake).
func (b *uringBackend) retireWake() {
	old := b.wakeOp
	if old == nil || old.State() == OpDone {
		return
	}
	b.wakeOp = nil
	b.wakePolling = true
	if old.State() == OpQueued {
		// Armed this turn and not in the SQ yet: it never will be.
		old.state.Store(uint32(OpDone))
		b.l.inflight.remove(old.id)
		b.retired = old
		return
	}
	// Complete it rather than cancel it: a cancel can find the READ too far
	// along (EALREADY) and leave it waiting, and the drained op with it.
	// The count it reads is a wakeup like any other.
	b.wake()
}

func (b *uringBackend) prep(sqe *uring.SQE, op *Op) {
	l := b.l
	switch op.kind {
	case OpNop:
		sqe.PrepNop()
	case OpRead:
		sqe.PrepRead(op.fd, bufAddr(op.buf), uint32(len(op.buf)), uint64(op.off))
	case OpWrite:
		sqe.PrepWrite(op.fd, bufAddr(op.buf), uint32(len(op.buf)), uint64(op.off))
	case OpRecv:
		sqe.PrepRecv(op.fd, bufAddr(op.buf), uint32(len(op.buf)), op.flags)
	case OpSend:
		sqe.PrepSend(op.fd, bufAddr(op.buf), uint32(len(op.buf)), op.flags|unix.MSG_NOSIGNAL)
	case OpConnect:
		sqe.PrepConnect(op.fd, bufAddr(op.sa[:]), op.salen)
	case OpAccept:
		sqe.PrepAccept(op.fd, bufAddr(op.sa[:]), uintptr(unsafe.Pointer(&op.salen)), op.flags)
	case OpPollAdd:
		sqe.PrepPollAdd(op.fd, op.flags)
	case OpTimeout:
		sqe.PrepTimeout((*uring.Timespec)(unsafe.Pointer(&op.ts)), 0, 0)
	case OpLinkTimeout:
		sqe.PrepLinkTimeout((*uring.Timespec)(unsafe.Pointer(&op.ts)), 0)
	case OpAsyncCancel:
		sqe.PrepCancel(op.target, 0)
	case OpFsync:
		sqe.PrepFsync(op.fd, 0)
	case OpClose:
		sqe.PrepClose(op.fd)
	}
	sqe.Flags |= op.order.sqeFlags()
	sqe.UserData = op.id
	op.state.CompareAndSwap(uint32(OpQueued), uint32(OpSubmitted))
	if b.submitAt < 0 {
		b.submitAt = l.stamp()
	}
	l.rec.Emit(trace.Event{Kind: trace.KindSubmit, Time: b.submitAt, Op: op.id, Fd: int32(op.fd),
		Name: op.name, Arg0: int64(sqe.Flags), Arg1: int64(len(op.buf))})
}

func bufAddr(p []byte) uintptr {
	if len(p) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&p[0]))
}

func (b *uringBackend) wait(timeout time.Duration) error {
	l := b.l
	l.counter(counterSQPending, l.names.sqPending, int64(b.ring.SQPending()))
	inflight := l.inflight.len()
	if b.wakeOp != nil {
		inflight-- // the wake READ is the loop's own, not the handler's
	}
	l.counter(counterInflight, l.names.inflight, int64(inflight))
	timeout = b.rearmWake(timeout)
	if err := b.waitEnter(timeout); err != nil {
		return err
	}
	if err := b.reap(); err != nil {
		return err
	}
	if b.wakePolling && l.wakeSent.Load() {
		l.drainPosted()
	}
	return nil
}

// waitEnter submits the SQ and waits for at least one CQE, or until timeout
// (-1: forever; 0: do not wait). Even a wait of 0 enters with GETEVENTS:
// with COOP_TASKRUN, completions are only posted when the task enters.
func (b *uringBackend) waitEnter(timeout time.Duration) error {
	l := b.l
	toSubmit := b.ring.SQPending()
	var min uint32 = 1
	if timeout == 0 || b.ring.CQReady() > 0 {
		min = 0
	}
	if min == 1 && b.busy {
		// The last turn had completions: under load the next ones are
		// usually already there. Look once without sleeping, as gnet's
		// loop does, and block only if nothing came.
		start := l.stamp()
		n, err := b.ring.SubmitAndWait(0)
		b.traceEnter(start, toSubmit, 0, n, err)
		if err != nil && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EAGAIN) {
			return err
		}
		toSubmit = b.ring.SQPending()
		if b.ring.CQReady() > 0 {
			return nil
		}
	}
	if min == 1 {
		l.rec.Flush() // the reader sees this turn's events while the loop sleeps
	}
	start := l.stamp()
	var n int
	var err error
	switch {
	case min == 0:
		n, err = b.ring.SubmitAndWait(0)
	case timeout > 0:
		n, err = b.ring.SubmitAndWaitTimeout(1, timeout)
	default:
		n, err = b.ring.SubmitAndWait(1)
	}
	b.traceEnter(start, toSubmit, min, n, err)
	if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EAGAIN) {
		// The CQ is full or the kernel is short of request memory: reaping
		// makes room, so let the loop come round.
		return nil
	}
	return err
}

// enter is a traced io_uring_enter that submits nothing new.
func (b *uringBackend) enter(toSubmit, minComplete, flags uint32) error {
	start := b.l.stamp()
	var n int
	var err error
	if toSubmit > 0 {
		n, err = b.ring.Submit()
	} else {
		n, err = b.ring.Enter(0, minComplete, flags)
	}
	b.traceEnter(start, toSubmit, minComplete, n, err)
	if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EAGAIN) {
		return nil
	}
	return err
}

func (b *uringBackend) traceEnter(start int64, toSubmit, minComplete uint32, n int, err error) {
	l := b.l
	res := int64(n)
	var errno unix.Errno
	if errors.As(err, &errno) {
		res = -int64(errno)
	}
	b.enterEnd = l.stamp()
	l.rec.Emit(trace.Event{Kind: trace.KindSyscall, Time: start, Dur: b.enterEnd - start, Name: l.names.uringEnter,
		Fd: int32(b.ring.Fd()), Res: res, Arg0: int64(toSubmit), Arg1: int64(minComplete)})
}

// reap turns every ready CQE into a completion. The completions, and the
// wakeup that counts them, are recorded at the time the io_uring_enter that
// returned them ended.
func (b *uringBackend) reap() error {
	l := b.l
	if b.enterEnd == 0 {
		b.enterEnd = l.stamp() // tracing was turned on after the enter
	}
	total := 0
	for {
		n := b.ring.Reap(b.cqes)
		if n == 0 {
			if b.ring.Overflowed() {
				// CQEs the kernel could not post are buffered (NODROP);
				// an enter with GETEVENTS flushes them into the CQ.
				if err := b.enter(0, 0, uring.EnterGetEvents); err != nil {
					return err
				}
				if b.ring.CQReady() > 0 {
					continue
				}
			}
			break
		}
		if total == 0 {
			l.counterAt(counterCQReady, l.names.cqReady, int64(n)+int64(b.ring.CQReady()), b.enterEnd)
		}
		total += n
		for _, c := range b.cqes[:n] {
			b.complete(c)
		}
	}
	b.busy = total > 0
	if total > 0 {
		l.rec.Emit(trace.Event{Kind: trace.KindWakeup, Time: b.enterEnd, Name: l.names.uringEnter,
			Fd: int32(b.ring.Fd()), Res: int64(total)})
	}
	return nil
}

func (b *uringBackend) complete(c uring.CQE) {
	l := b.l
	op := l.inflight.get(c.UserData)
	if op == nil {
		l.rec.Emit(trace.Event{Kind: trace.KindMark, Time: b.enterEnd, Op: c.UserData, Res: int64(c.Res),
			Fd: -1, Name: l.rec.Intern("stale CQE for a reused slot (ignored)")})
		return
	}
	switch {
	case op.name == l.names.wake:
		l.inflight.remove(op.id)
		op.state.Store(uint32(OpDone))
		if c.Res == -int32(unix.ECANCELED) {
			return
		}
		l.drainPosted()
		if b.wakeOp == op {
			b.wakePolling = false // a wake READ armed after a drain works
		}
		if !l.closed.Load() && b.wakeOp == op {
			b.armWake()
		}
	case op.kind == OpAsyncCancel && op.answered:
		b.completeAnswered(op, c)
	case op.kind == OpAsyncCancel:
		// The cancel's own CQE is only an annotation: the target's CQE
		// decides the target's outcome.
		l.inflight.remove(op.id)
		op.state.Store(uint32(OpDone))
		l.rec.Emit(trace.Event{Kind: trace.KindCancel, Time: b.enterEnd, Op: op.target, Res: int64(c.Res),
			Fd: -1, Name: op.name})
	default:
		l.completeOp(op, c.Res, c.Flags, b.enterEnd)
	}
}
