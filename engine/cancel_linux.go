package engine

import (
	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// asyncCancel answers an ASYNC_CANCEL on epoll, where the loop's single
// thread means a target is either parked, waiting for readiness, or done:
// a parked target is stopped at once and completes with -ECANCELED before
// the cancel does.
func (b *epollBackend) asyncCancel(op *Op) {
	res := -int32(unix.ENOENT)
	if t := b.l.inflight.get(op.target); t != nil && t != op && t.State() != OpDone {
		b.cancel(t)
		res = 0
	}
	b.l.rec.Emit(trace.Event{Kind: trace.KindCancel, Time: b.l.stamp(), Op: op.target, Res: int64(res),
		Fd: -1, Name: op.name})
	b.finish(op, res)
}

// completeAnswered completes an ASYNC_CANCEL from Loop.AsyncCancel with
// the kernel's answer, after annotating its target as the loop's own
// cancels do.
func (b *uringBackend) completeAnswered(op *Op, c uring.CQE) {
	b.l.rec.Emit(trace.Event{Kind: trace.KindCancel, Time: b.enterEnd, Op: op.target, Res: int64(c.Res),
		Fd: -1, Name: op.name})
	b.l.completeOp(op, c.Res, c.Flags, b.enterEnd)
}
