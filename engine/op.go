package engine

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// OpKind is the operation an [Op] performs. The values match io_uring's
// opcodes, so the same numbers appear on both backends.
type OpKind uint8

// The operations.
const (
	OpNop         OpKind = 0
	OpFsync       OpKind = 3
	OpPollAdd     OpKind = 6
	OpTimeout     OpKind = 11
	OpAccept      OpKind = 13
	OpAsyncCancel OpKind = 14
	OpLinkTimeout OpKind = 15
	OpConnect     OpKind = 16
	OpClose       OpKind = 19
	OpRead        OpKind = 22
	OpWrite       OpKind = 23
	OpSend        OpKind = 26
	OpRecv        OpKind = 27
)

var opNames = map[OpKind]string{
	OpNop: "NOP", OpFsync: "FSYNC", OpPollAdd: "POLL_ADD", OpTimeout: "TIMEOUT",
	OpAccept: "ACCEPT", OpAsyncCancel: "ASYNC_CANCEL", OpLinkTimeout: "LINK_TIMEOUT",
	OpConnect: "CONNECT", OpClose: "CLOSE", OpRead: "READ", OpWrite: "WRITE",
	OpSend: "SEND", OpRecv: "RECV",
}

// String returns the io_uring name of the operation, such as "RECV".
func (k OpKind) String() string {
	if s, ok := opNames[k]; ok {
		return s
	}
	return fmt.Sprintf("OP(%d)", uint8(k))
}

// OpState is where an op is in its life. Transitions are compare-and-swap,
// so a cancel and a completion racing on one op settle on exactly one
// outcome, and that outcome is decided by the op's own completion.
type OpState uint32

// The op states.
const (
	OpQueued     OpState = iota // created, not yet handed to the kernel
	OpSubmitted                 // in the kernel (SQE consumed, or armed on epoll)
	OpCancelling                // a cancel was requested; the op's own completion decides
	OpDone                      // the op's completion arrived
)

func (s OpState) String() string {
	switch s {
	case OpQueued:
		return "queued"
	case OpSubmitted:
		return "submitted"
	case OpCancelling:
		return "cancelling"
	case OpDone:
		return "done"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// Order flags chain ops the way io_uring's SQE flags do.
type Order uint8

// The order flags.
const (
	Link     Order = 1 << iota // the next op starts only after this one succeeds
	HardLink                   // the next op starts after this one, even if it fails
	Drain                      // this op starts only after every earlier op completed
	Async                      // io_uring: punt straight to an io-wq worker
)

// sqeFlags returns the io_uring SQE flags that express o. Both backends
// record these in a submit event's Arg0, so the trace reads the same.
func (o Order) sqeFlags() uint8 {
	var f uint8
	if o&Link != 0 {
		f |= uring.SQEIOLink
	}
	if o&HardLink != 0 {
		f |= uring.SQEIOHardlink
	}
	if o&Drain != 0 {
		f |= uring.SQEIODrain
	}
	if o&Async != 0 {
		f |= uring.SQEAsync
	}
	return f
}

// Op is one asynchronous operation on a loop: a read, a receive, a connect,
// a timeout. Every buffer, socket address and timespec it hands to the
// kernel is referenced by the op, and the op by the loop's in-flight table,
// until the op's own completion arrives, so the memory stays alive and
// unmoved while the kernel may write it. An Op is owned by its loop.
type Op struct {
	l     *Loop
	id    uint64
	kind  OpKind
	name  trace.NameID
	fd    int
	buf   []byte
	off   int64
	flags uint32 // msg flags, accept flags, poll events, fsync flags
	order Order
	state atomic.Uint32

	res      int32  // >= 0 result or -errno; set only by the completion path
	cqeFlags uint32 // io_uring CQE flags

	sa     [sys.SizeofSockaddrAny]byte // sockaddr for CONNECT, or ACCEPT's peer
	salen  uint32
	ts     [2]int64 // __kernel_timespec for TIMEOUT and LINK_TIMEOUT
	target uint64   // ASYNC_CANCEL's target op
	// answered: an ASYNC_CANCEL from Loop.AsyncCancel, completed like any
	// op with the cancel's own answer. The loop's own cancels (Op.Cancel,
	// unwatch, the wake READ) only annotate the trace.
	answered bool

	cb       func(*Op)
	thens    []func(int, error)
	finished bool // the completion callback has run
	fut      *Future[int]
	complete func() // run on the loop after completion; nil if nobody listens

	// epoll emulation progress.
	got  int // bytes moved so far (MSG_WAITALL)
	next *Op // the op linked after this one
	held bool
	// drainSeen: the epoll backend has looked at this op's Drain flag.
	drainSeen bool
	qseq      uint64 // epoll: the op's place in queue order, for Drain
}

// ID returns the op's id: its slot in the in-flight table and a generation,
// which is also the io_uring user_data.
func (op *Op) ID() uint64 { return op.id }

// Kind returns what the op does.
func (op *Op) Kind() OpKind { return op.kind }

// State returns where the op is in its life. It is safe for concurrent use.
func (op *Op) State() OpState { return OpState(op.state.Load()) }

// Result returns the op's outcome: the byte count, new fd or 0 on success,
// and a [sys.Errno] on failure. It is meaningful once the op is done.
func (op *Op) Result() (int, error) {
	if op.res < 0 {
		return 0, sys.Errno(-op.res)
	}
	return int(op.res), nil
}

// Res returns the raw result: >= 0 on success, -errno on failure.
func (op *Op) Res() int32 { return op.res }

// Buf returns the op's buffer.
func (op *Op) Buf() []byte { return op.buf }

// Sockaddr returns the peer address of a completed ACCEPT, or nil.
func (op *Op) Sockaddr() sys.Sockaddr {
	if op.kind != OpAccept || op.salen == 0 {
		return nil
	}
	return sys.ParseSockaddr(op.sa[:op.salen])
}

// Then runs fn on the loop once the op completes. It runs inside the op's
// own completion callback, so one completion is one handler in the trace.
func (op *Op) Then(fn func(n int, err error)) *Op {
	op.l.mustOnLoop("Op.Then")
	if op.finished || (op.State() == OpDone && op.complete == nil) {
		// Its completion callback has run, or nobody was listening when it
		// completed: run fn as its own callback.
		op.l.queueTask(task{name: op.name, ready: op.l.stamp(), op: op.id, fn: func() { fn(op.Result()) }})
		return op
	}
	op.thens = append(op.thens, fn)
	op.complete = op.finish
	return op
}

// OnDone sets a callback that gets the op itself when it completes. Unlike
// Then it creates no future, so an op that is resubmitted over and over
// allocates nothing.
func (op *Op) OnDone(fn func(*Op)) *Op {
	op.cb = fn
	op.complete = op.finish
	return op
}

// Future returns a future that resolves with the op's result.
func (op *Op) Future() *Future[int] {
	if op.fut == nil {
		op.complete = op.finish
		op.fut = &Future[int]{l: op.l, id: op.id, name: op.name, then: op.name}
		if op.State() == OpDone {
			n, err := op.Result()
			op.fut.Resolve(n, err)
		}
	}
	return op.fut
}

// Order sets how the op is chained with the ops around it. It must be called
// before the loop next polls, in the callback that created the op.
func (op *Op) Order(o Order) *Op {
	op.order = o
	return op
}

// Cancel asks the kernel to cancel the op. It is safe for concurrent use.
// The op still completes exactly once: with -ECANCELED if the cancel won,
// or with its real result if the completion got there first.
func (op *Op) Cancel() {
	if !op.l.OnLoop() {
		op.l.post(task{name: op.l.names.cancel, fn: op.cancel})
		return
	}
	op.cancel()
}

func (op *Op) cancel() {
	for {
		s := OpState(op.state.Load())
		if s == OpDone || s == OpCancelling {
			return
		}
		if op.state.CompareAndSwap(uint32(s), uint32(OpCancelling)) {
			op.l.be.cancel(op)
			return
		}
	}
}

// finish runs on the loop, as a callback named after the op, once the op's
// own completion arrived.
func (op *Op) finish() {
	op.finished = true
	n, err := op.Result()
	for _, fn := range op.thens {
		fn(n, err)
	}
	if op.cb != nil {
		op.cb(op)
	}
	if op.fut != nil {
		op.fut.Resolve(n, err)
	}
}

// newOp takes a slot in the in-flight table and queues the op for the next
// submission.
func (l *Loop) newOp(kind OpKind, fd int) *Op {
	l.mustOnLoop(kind.String())
	op := &Op{l: l, kind: kind, name: l.names.op(kind), fd: fd}
	l.startOp(op)
	return op
}

// Resubmit queues a completed op again with the same arguments. The buffer
// is reused, so the caller must be done with it.
func (op *Op) Resubmit() {
	op.l.mustOnLoop("Op.Resubmit")
	if op.State() != OpDone {
		panic("engine: Resubmit of an op that is not done")
	}
	op.res, op.cqeFlags, op.got, op.next, op.held = 0, 0, 0, nil, false
	op.drainSeen = false
	if op.kind == OpAccept {
		op.salen = uint32(len(op.sa)) // the kernel wrote the last peer's length here
	}
	op.fut, op.thens, op.finished = nil, nil, false
	op.l.startOp(op)
}

func (l *Loop) startOp(op *Op) {
	op.state.Store(uint32(OpQueued))
	op.id = l.inflight.add(op)
	l.be.queue(op)
}

// completeOp records op's outcome, decided by its own completion. It is the
// only place an op becomes done. at is when the loop learned of the
// completion, if the backend already read the clock for that instant (the
// end of the system call that returned it); below zero it reads the clock.
func (l *Loop) completeOp(op *Op, res int32, cqeFlags uint32, at int64) {
	for {
		s := op.state.Load()
		if s == uint32(OpDone) {
			// A second completion for one op would break "exactly one
			// outcome"; record it loudly instead of acting on it.
			l.rec.Emit(trace.Event{Kind: trace.KindMark, Time: l.stamp(), Op: op.id, Fd: int32(op.fd),
				Name: l.rec.Intern("BUG: second completion for one op")})
			return
		}
		if op.state.CompareAndSwap(s, uint32(OpDone)) {
			break
		}
	}
	op.res, op.cqeFlags = res, cqeFlags
	l.inflight.remove(op.id)
	now := at
	if now < 0 {
		now = l.stamp()
	}
	l.rec.Emit(trace.Event{Kind: trace.KindComplete, Time: now, Op: op.id, Fd: int32(op.fd),
		Name: op.name, Res: int64(res), Arg0: int64(cqeFlags)})
	if l.closed.Load() {
		// The loop has stopped and runs no more callbacks; release whoever
		// waits on the op from another goroutine.
		if op.fut != nil {
			op.fut.Resolve(op.Result())
		}
		return
	}
	if op.complete != nil {
		l.queueTask(task{name: op.name, ready: now, op: op.id, fn: op.complete})
	}
}

// The ops. Each queues at once and is handed to the kernel when the loop
// next polls, so ops created in one callback are submitted as one batch.

// Nop queues an operation that does nothing but complete.
func (l *Loop) Nop() *Op { return l.newOp(OpNop, -1) }

// Read reads into buf from fd at offset off (-1: the current position).
func (l *Loop) Read(fd int, buf []byte, off int64) *Op {
	op := l.newOp(OpRead, fd)
	op.buf, op.off = buf, off
	return op
}

// Write writes buf to fd at offset off (-1: the current position).
func (l *Loop) Write(fd int, buf []byte, off int64) *Op {
	op := l.newOp(OpWrite, fd)
	op.buf, op.off = buf, off
	return op
}

// Recv receives into buf from a socket. With sys.MSG_WAITALL it completes
// only when buf is full (or the peer closes, or an error).
func (l *Loop) Recv(fd int, buf []byte, flags int) *Op {
	op := l.newOp(OpRecv, fd)
	op.buf, op.flags = buf, uint32(flags)
	return op
}

// Send sends buf on a socket.
func (l *Loop) Send(fd int, buf []byte, flags int) *Op {
	op := l.newOp(OpSend, fd)
	op.buf, op.flags = buf, uint32(flags)
	return op
}

// Connect connects a socket to sa. The result is 0 or the connect error,
// such as ECONNREFUSED.
func (l *Loop) Connect(fd int, sa sys.Sockaddr) *Op {
	op := l.newOp(OpConnect, fd)
	raw, err := sys.RawSockaddr(sa)
	if err != nil {
		panic(fmt.Sprintf("engine: Connect: %v", err))
	}
	op.salen = uint32(copy(op.sa[:], raw))
	return op
}

// Accept accepts a connection on a listening socket. The result is the new
// fd; [Op.Sockaddr] has the peer. flags are accept4 flags such as
// sys.SOCK_NONBLOCK.
func (l *Loop) Accept(fd int, flags int) *Op {
	op := l.newOp(OpAccept, fd)
	op.flags = uint32(flags)
	op.salen = uint32(len(op.sa))
	return op
}

// PollAdd completes once fd is ready for events (sys.POLLIN, sys.POLLOUT).
// The result is the ready mask.
func (l *Loop) PollAdd(fd int, events uint32) *Op {
	op := l.newOp(OpPollAdd, fd)
	op.flags = events
	return op
}

// Timeout completes with ETIME after d.
func (l *Loop) Timeout(d time.Duration) *Op {
	op := l.newOp(OpTimeout, -1)
	op.ts = [2]int64{int64(d / time.Second), int64(d % time.Second)}
	return op
}

// LinkTimeout bounds the op queued just before it, which must have the Link
// order: if d passes first, that op is cancelled (-ECANCELED) and this one
// completes with ETIME.
func (l *Loop) LinkTimeout(d time.Duration) *Op {
	op := l.newOp(OpLinkTimeout, -1)
	op.ts = [2]int64{int64(d / time.Second), int64(d % time.Second)}
	return op
}

// Fsync flushes fd to storage.
func (l *Loop) Fsync(fd int) *Op { return l.newOp(OpFsync, fd) }

// Close closes fd asynchronously.
func (l *Loop) Close(fd int) *Op { return l.newOp(OpClose, fd) }
