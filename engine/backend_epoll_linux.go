package engine

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// epollBackend is a readiness loop that emulates completions: an op tries
// its non-blocking call, and on EAGAIN it arms readiness for its fd and
// tries again when epoll says the fd is ready. Every attempt, wakeup and
// epoll_ctl is traced, so "five wakeups for five packets" shows by itself.
type epollBackend struct {
	l       *Loop
	epfd    int
	wakefd  int
	events  []unix.EpollEvent
	fds     map[int]*fdState
	pending []*Op // queued this turn, tried at the next flush
	spare   []*Op // the other pending buffer, reused turn after turn
	last    *Op   // the op queued most recently, for links
	qseq    uint64
	// deferred are the ops held by a drain, in queue order, and draining
	// the drained ops started and not yet complete (see drain_linux.go).
	deferred []*Op
	draining []*Op
	wakebuf  [8]byte
}

// fdState is what the epoll backend tracks for one descriptor.
type fdState struct {
	fd         int
	readers    []*Op // ops waiting for EPOLLIN, oldest first
	writers    []*Op // ops waiting for EPOLLOUT
	rw, ww     *Watch
	registered uint32 // the mask epoll has now; 0 if not added
	disarmed   bool   // one-shot: an event fired, so epoll holds the fd disarmed
	file       bool   // epoll_ctl said EPERM: a regular file, always ready
}

var _ backend = (*epollBackend)(nil)

func newEpollBackend(l *Loop) (*epollBackend, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &epollBackend{l: l, epfd: epfd, wakefd: wakefd, events: make([]unix.EpollEvent, 256),
		fds: make(map[int]*fdState)}, nil
}

func (b *epollBackend) close() error {
	err1 := unix.Close(b.wakefd)
	err2 := unix.Close(b.epfd)
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close", err2)
	}
	return nil
}

func (b *epollBackend) wake() {
	var one = [8]byte{1}
	unix.Write(b.wakefd, one[:])
}

func (b *epollBackend) queue(op *Op) {
	b.qseq++
	op.qseq = b.qseq
	if prev := b.last; prev != nil && prev.order&(Link|HardLink) != 0 && prev.State() != OpDone && !prev.l.closed.Load() {
		prev.next = op
		op.held = true
	} else if prev != nil && prev.order&(Link|HardLink) != 0 && prev.State() == OpDone && prev.res < 0 && prev.order&HardLink == 0 {
		// The head already failed: the chain is cancelled.
		op.held = true
		b.pending = append(b.pending, op)
		op.res = -int32(unix.ECANCELED)
		b.last = op
		return
	}
	b.last = op
	if op.kind == OpLinkTimeout {
		return // armed with the op it bounds, when that op starts
	}
	if !op.held {
		b.pending = append(b.pending, op)
	}
}

func (b *epollBackend) cancel(op *Op) {
	// The loop is single-threaded here, so the op cannot complete while we
	// look at it: if it is still waiting, the cancel wins.
	if op.state.Load() == uint32(OpDone) {
		return
	}
	if st := b.fds[op.fd]; st != nil {
		st.readers = removeOp(st.readers, op)
		st.writers = removeOp(st.writers, op)
		b.update(st)
	}
	b.pending = removeOp(b.pending, op)
	b.deferred = removeOp(b.deferred, op)
	b.finish(op, -int32(unix.ECANCELED))
}

func removeOp(ops []*Op, op *Op) []*Op {
	for i, o := range ops {
		if o == op {
			return append(ops[:i], ops[i+1:]...)
		}
	}
	return ops
}

func (b *epollBackend) wait(timeout time.Duration) error {
	msec := -1
	if timeout >= 0 {
		msec = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	l := b.l
	l.counter(counterInflight, l.names.inflight, int64(l.inflight.len()))
	if msec != 0 {
		l.rec.Flush() // the reader sees this turn's events while the loop sleeps
	}
	start := l.stamp()
	n, err := unix.EpollWait(b.epfd, b.events, msec)
	end := l.stamp()
	res := int64(n)
	if errno, ok := err.(unix.Errno); ok {
		res = -int64(errno)
	}
	l.rec.Emit(trace.Event{Kind: trace.KindSyscall, Time: start, Dur: end - start,
		Name: l.names.epollWait, Fd: int32(b.epfd), Res: res, Arg0: int64(msec)})
	if err == unix.EINTR {
		// A signal: the loop comes round and works the timeout out again.
		// Waiting again with the same timeout would put a timer off for as
		// long as signals keep coming.
		return nil
	}
	if err != nil {
		return os.NewSyscallError("epoll_wait", err)
	}
	if n == 0 {
		return nil
	}
	l.rec.Emit(trace.Event{Kind: trace.KindWakeup, Time: end, Name: l.names.epollWait,
		Fd: int32(b.epfd), Res: int64(n)})
	for _, ev := range b.events[:n] {
		fd := int(ev.Fd)
		if fd == b.wakefd {
			unix.Read(b.wakefd, b.wakebuf[:])
			l.drainPosted()
			continue
		}
		// What epoll said, before what the loop made of it: the same event
		// a handler's own epoll_wait records (see sys.EpollWait).
		l.rec.Emit(trace.Event{Kind: trace.KindReady, Time: end, Name: l.names.epollWait,
			Fd: ev.Fd, Arg0: int64(ev.Events), Arg1: int64(b.epfd)})
		if st := b.fds[fd]; st != nil {
			b.dispatch(st, ev.Events)
		}
	}
	return nil
}

// flush tries every op queued this turn.
func (b *epollBackend) flush() error {
	for len(b.pending) > 0 {
		ops := b.pending
		b.pending, b.spare = b.spare[:0], nil
		for _, op := range ops {
			b.start(op)
		}
		clear(ops)
		b.spare = ops[:0]
	}
	// A chain ends with the turn, as an io_uring chain ends with its
	// submit batch: an op created in a later turn never joins it.
	b.last = nil
	return nil
}

// start makes an op's first attempt. Ops that would block are parked on
// their fd until epoll reports it ready.
func (b *epollBackend) start(op *Op) {
	// Drain: a drained op waits until every earlier op has completed, and
	// the ops after it until it has. The flag is read here, not when the op
	// was created, because Order is set after that.
	if !op.drainSeen {
		op.drainSeen = true
		if b.drainGate(op) {
			b.deferOp(op)
			return
		}
		if op.order&Drain != 0 {
			b.draining = append(b.draining, op)
		}
	}
	l := b.l
	if !op.state.CompareAndSwap(uint32(OpQueued), uint32(OpSubmitted)) {
		if op.State() == OpCancelling {
			op.state.Store(uint32(OpSubmitted))
		} else {
			return
		}
	}
	l.rec.Emit(trace.Event{Kind: trace.KindSubmit, Time: l.stamp(), Op: op.id, Fd: int32(op.fd),
		Name: op.name, Arg0: int64(op.order.sqeFlags()), Arg1: int64(len(op.buf))})
	if op.res < 0 && op.held { // a chain head failed before this op started
		b.finish(op, op.res)
		return
	}
	if lt := op.next; lt != nil && lt.kind == OpLinkTimeout {
		b.armLinkTimeout(op, lt)
	}
	switch op.kind {
	case OpNop:
		b.finish(op, 0)
	case OpTimeout:
		d := time.Duration(op.ts[0])*time.Second + time.Duration(op.ts[1])
		l.AfterFunc("TIMEOUT", d, func() {
			if op.State() != OpDone {
				b.finish(op, -int32(unix.ETIME))
			}
		})
	case OpFsync:
		t := l.stamp()
		err := unix.Fsync(op.fd)
		end := b.traceSys("fsync", t, op.fd, 0, err)
		b.finishAt(op, errnoRes(0, err), end)
	case OpClose:
		b.forget(op.fd)
		t := l.stamp()
		err := unix.Close(op.fd)
		end := b.traceSys("close", t, op.fd, 0, err)
		b.finishAt(op, errnoRes(0, err), end)
	case OpConnect:
		b.tryConnect(op)
	case OpAsyncCancel:
		b.asyncCancel(op)
	default:
		b.attempt(op)
	}
}

// attempt runs op's call once. On EAGAIN it parks the op on its fd.
func (b *epollBackend) attempt(op *Op) {
	res, again, end := b.try(op)
	if !again {
		b.finishAt(op, res, end)
		return
	}
	st := b.state(op.fd)
	if op.kind == OpWrite || op.kind == OpSend || (op.kind == OpPollAdd && op.flags&unix.POLLIN == 0) {
		st.writers = append(st.writers, op)
	} else {
		st.readers = append(st.readers, op)
	}
	b.update(st)
}

// try performs op's non-blocking system call. It reports again when the
// call would block, and otherwise the op's result. end is when the call
// returned, as traced (-1 when there was no call), which is also when a
// result it produced completes the op.
func (b *epollBackend) try(op *Op) (res int32, again bool, end int64) {
	l := b.l
	t := l.stamp()
	switch op.kind {
	case OpRead, OpWrite:
		var n int
		var err error
		var name string
		switch {
		case op.kind == OpRead && op.off >= 0:
			n, err = unix.Pread(op.fd, op.buf, op.off)
			name = "pread"
		case op.kind == OpRead:
			n, err = unix.Read(op.fd, op.buf)
			name = "read"
		case op.off >= 0:
			n, err = unix.Pwrite(op.fd, op.buf, op.off)
			name = "pwrite"
		default:
			n, err = unix.Write(op.fd, op.buf)
			name = "write"
		}
		end = b.traceSys(name, t, op.fd, n, err)
		if err == unix.EAGAIN {
			return 0, true, end
		}
		return errnoRes(n, err), false, end
	case OpRecv:
		waitAll := op.flags&unix.MSG_WAITALL != 0
		flags := int(op.flags&^unix.MSG_WAITALL) | unix.MSG_DONTWAIT
		n, _, err := unix.Recvfrom(op.fd, op.buf[op.got:], flags)
		end = b.traceSys("recvfrom", t, op.fd, n, err)
		if err == unix.EAGAIN {
			return 0, true, end
		}
		if err != nil {
			if op.got > 0 {
				return int32(op.got), false, end
			}
			return errnoRes(n, err), false, end
		}
		op.got += n
		if waitAll && n > 0 && op.got < len(op.buf) {
			return b.try(op) // keep reading until EAGAIN or full
		}
		return int32(op.got), false, end
	case OpSend:
		// sendto(2) directly: unix.Sendto hides how many bytes went out,
		// and a short send must report its real count, as the ring does.
		r1, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(op.fd), bufAddr(op.buf), uintptr(len(op.buf)),
			uintptr(int(op.flags)|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL), 0, 0)
		n := int(r1)
		var err error
		if errno != 0 {
			n, err = 0, errno
		}
		end = b.traceSys("sendto", t, op.fd, n, err)
		if err == unix.EAGAIN {
			return 0, true, end
		}
		return errnoRes(n, err), false, end
	case OpAccept:
		nfd, sa, err := unix.Accept4(op.fd, int(op.flags))
		end = b.traceSys("accept4", t, op.fd, nfd, err)
		if err == unix.EAGAIN {
			return 0, true, end
		}
		if err == nil {
			op.salen = 0
			if raw, rerr := sys.RawSockaddr(sa); rerr == nil {
				op.salen = uint32(copy(op.sa[:], raw))
			}
		}
		return errnoRes(nfd, err), false, end
	case OpPollAdd:
		// Readiness itself is the result; there is no call to try.
		return 0, true, -1
	case OpConnect:
		// Writable after EINPROGRESS: the handshake is over; SO_ERROR says how.
		v, err := unix.GetsockoptInt(op.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		end = b.traceSysArg("getsockopt", t, op.fd, v, err, unix.SO_ERROR)
		if err != nil {
			return errnoRes(0, err), false, end
		}
		return -int32(v), false, end
	}
	return -int32(unix.EINVAL), false, -1
}

func (b *epollBackend) tryConnect(op *Op) {
	l := b.l
	t := l.stamp()
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(op.fd), bufAddr(op.sa[:]), uintptr(op.salen))
	var err error
	if errno != 0 {
		err = errno
	}
	end := b.traceSys("connect", t, op.fd, 0, err)
	if err != unix.EINPROGRESS {
		b.finishAt(op, errnoRes(0, err), end)
		return
	}
	st := b.state(op.fd)
	st.writers = append(st.writers, op)
	b.update(st)
}

// dispatch handles one epoll event for a descriptor.
func (b *epollBackend) dispatch(st *fdState, mask uint32) {
	l := b.l
	if l.cfg.Trigger == OneShot {
		st.disarmed = true
	}
	now := l.stamp() // one readiness report: both directions share its time
	if mask&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
		l.rec.Emit(trace.Event{Kind: trace.KindComplete, Time: now, Name: l.names.readable,
			Fd: int32(st.fd), Arg0: int64(mask)})
		if st.rw != nil {
			st.rw.fire(mask)
		}
		st.readers = b.serve(st.readers, mask)
	}
	if mask&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		l.rec.Emit(trace.Event{Kind: trace.KindComplete, Time: now, Name: l.names.writable,
			Fd: int32(st.fd), Arg0: int64(mask)})
		if st.ww != nil {
			st.ww.fire(mask)
		}
		st.writers = b.serve(st.writers, mask)
	}
	b.update(st)
}

// serve retries the parked ops of one direction, oldest first, until one
// would block again.
func (b *epollBackend) serve(ops []*Op, mask uint32) []*Op {
	var kept []*Op
	for i, op := range ops {
		if op.kind == OpPollAdd {
			// A poll waits only for its own events; it never holds up
			// the ops queued behind it.
			if res := int32(mask & (op.flags | unix.EPOLLERR | unix.EPOLLHUP)); res != 0 {
				b.finishAt(op, res, -1)
			} else {
				kept = append(kept, op)
			}
			continue
		}
		res, again, end := b.try(op)
		if again {
			// Data ops keep their order: the rest wait for the next
			// readiness.
			return append(kept, ops[i:]...)
		}
		b.finishAt(op, res, end)
	}
	return kept
}

func (b *epollBackend) state(fd int) *fdState {
	st := b.fds[fd]
	if st == nil {
		st = &fdState{fd: fd}
		b.fds[fd] = st
	}
	return st
}

// update makes epoll's interest match what the fd's ops and watches need.
func (b *epollBackend) update(st *fdState) {
	oneShot := b.l.cfg.Trigger == OneShot
	// A one-shot watch is re-armed only after its callback ran (rearm).
	listening := func(w *Watch) bool { return w != nil && w.active && !(oneShot && w.queued) }
	var want uint32
	if len(st.readers) > 0 || listening(st.rw) {
		want |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if len(st.writers) > 0 || listening(st.ww) {
		want |= unix.EPOLLOUT
	}
	switch b.l.cfg.Trigger {
	case EdgeTriggered:
		if want != 0 {
			want = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
		}
		if st.registered != 0 && want != 0 {
			return // registered once for both directions; edges keep coming
		}
	case OneShot:
		if want != 0 {
			want |= unix.EPOLLONESHOT
		}
		if want == st.registered && !st.disarmed {
			return
		}
		if want == 0 && st.disarmed && st.registered != 0 {
			return // disarmed already; keep the registration for a later MOD
		}
	default:
		if want == st.registered {
			return
		}
	}
	op := unix.EPOLL_CTL_MOD
	switch {
	case want == 0 && st.registered == 0:
		delete(b.fds, st.fd)
		return
	case want == 0:
		op = unix.EPOLL_CTL_DEL
	case st.registered == 0:
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: want, Fd: int32(st.fd)}
	t := b.l.stamp()
	err := unix.EpollCtl(b.epfd, op, st.fd, &ev)
	b.l.rec.Emit(trace.Event{Kind: trace.KindSyscall, Time: t, Dur: b.l.stamp() - t, Name: b.l.names.epollCtl,
		Fd: int32(st.fd), Res: int64(errnoRes(0, err)), Arg0: int64(op), Arg1: int64(want)})
	if err == unix.EPERM {
		// Regular files cannot be polled: they are always "ready", which is
		// why a disk needs a readiness adapter. Serve the ops directly.
		st.file = true
		st.registered = 0
		b.serveFile(st)
		return
	}
	if err != nil {
		b.failAll(st, errnoRes(0, err))
		return
	}
	st.registered, st.disarmed = want, false
	if want == 0 {
		delete(b.fds, st.fd)
	}
}

// forget drops everything the backend keeps for fd before it is closed:
// ops still parked on it fail with ECANCELED, its watches stop, and epoll
// stops watching it, so a new file that gets the same number starts clean.
func (b *epollBackend) forget(fd int) {
	st := b.fds[fd]
	if st == nil {
		return
	}
	delete(b.fds, fd)
	if st.registered != 0 {
		unix.EpollCtl(b.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	}
	for _, w := range []*Watch{st.rw, st.ww} {
		if w != nil {
			w.active = false
		}
	}
	for _, op := range append(st.readers, st.writers...) {
		b.finishAt(op, -int32(unix.ECANCELED), -1)
	}
}

func (b *epollBackend) serveFile(st *fdState) {
	readers, writers := st.readers, st.writers
	st.readers, st.writers = nil, nil
	for _, op := range append(readers, writers...) {
		res, _, end := b.try(op)
		b.finishAt(op, res, end)
	}
	delete(b.fds, st.fd)
}

func (b *epollBackend) failAll(st *fdState, res int32) {
	for _, op := range append(st.readers, st.writers...) {
		b.finish(op, res)
	}
	st.readers, st.writers = nil, nil
	delete(b.fds, st.fd)
}

func (b *epollBackend) watch(w *Watch) error {
	st := b.state(w.fd)
	if w.events == epollIn {
		st.rw = w
	} else {
		st.ww = w
	}
	b.update(st)
	if st.file {
		w.fire(w.events)
	}
	return nil
}

func (b *epollBackend) unwatch(w *Watch) error {
	st := b.fds[w.fd]
	if st == nil {
		return nil
	}
	if st.rw == w {
		st.rw = nil
	}
	if st.ww == w {
		st.ww = nil
	}
	b.update(st)
	return nil
}

func (b *epollBackend) rearm(w *Watch) {
	if b.l.cfg.Trigger != OneShot {
		return
	}
	if st := b.fds[w.fd]; st != nil {
		b.update(st) // EPOLLONESHOT disarmed the fd; MOD re-arms it
	}
}

// finish completes op and moves its chain along.
func (b *epollBackend) finish(op *Op, res int32) { b.finishAt(op, res, -1) }

// finishAt is finish for a result that a system call returned at time at
// (as traced; below zero: read the clock).
func (b *epollBackend) finishAt(op *Op, res int32, at int64) {
	l := b.l
	next := op.next
	l.completeOp(op, res, 0, at)
	if next != nil {
		next.held = false
		switch {
		case next.kind == OpLinkTimeout:
			// The bounded op finished first: its timeout is cancelled, and
			// the chain goes on from the bounded op's own result, as the
			// kernel does.
			after := next.next
			next.next = nil
			if next.State() != OpDone {
				next.state.Store(uint32(OpSubmitted))
				b.finish(next, -int32(unix.ECANCELED))
			}
			if after != nil {
				after.held = false
				if res < 0 && op.order&HardLink == 0 {
					after.res, after.held = -int32(unix.ECANCELED), true
				}
				b.pending = append(b.pending, after)
			}
		case res >= 0 || op.order&HardLink != 0:
			b.pending = append(b.pending, next)
		default:
			next.res = -int32(unix.ECANCELED)
			next.held = true
			b.pending = append(b.pending, next)
		}
	}
	if op.order&Drain != 0 {
		b.draining = removeOp(b.draining, op)
	}
	b.releaseDeferred()
}

// armLinkTimeout bounds op with the LINK_TIMEOUT queued after it.
func (b *epollBackend) armLinkTimeout(op, lt *Op) {
	lt.state.Store(uint32(OpSubmitted))
	b.l.rec.Emit(trace.Event{Kind: trace.KindSubmit, Time: b.l.stamp(), Op: lt.id, Fd: -1, Name: lt.name})
	d := time.Duration(lt.ts[0])*time.Second + time.Duration(lt.ts[1])
	b.l.AfterFunc("LINK_TIMEOUT", d, func() {
		if lt.State() == OpDone || op.State() == OpDone {
			return
		}
		op.next = nil
		b.cancel(op)
		b.finish(lt, -int32(unix.ETIME))
	})
}

// traceSys records a system call the backend made for an op and returns
// the time the call ended (0 when tracing is off).
func (b *epollBackend) traceSys(name string, start int64, fd, n int, err error) int64 {
	return b.traceSysArg(name, start, fd, n, err, 0)
}

func (b *epollBackend) traceSysArg(name string, start int64, fd, n int, err error, arg int64) int64 {
	l := b.l
	if !l.rec.Enabled() {
		return 0
	}
	end := l.rec.Now()
	l.rec.Emit(trace.Event{Kind: trace.KindSyscall, Time: start, Dur: end - start,
		Name: l.names.sys(l.rec, name), Fd: int32(fd), Res: int64(errnoRes(n, err)), Arg0: arg})
	return end
}

// errnoRes folds a result and an error into io_uring's convention.
func errnoRes(n int, err error) int32 {
	if err == nil {
		return int32(n)
	}
	if e, ok := err.(unix.Errno); ok {
		return -int32(e)
	}
	return -int32(unix.EIO)
}
