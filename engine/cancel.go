package engine

// AsyncCancel queues an ASYNC_CANCEL of target and returns it as an op of
// its own, whose result is the cancel's answer, not the target's:
//
//   - 0: the target was found and stopped. Its own completion, with
//     -ECANCELED, is still to come.
//   - -EALREADY: the target was already completing and can no longer be
//     stopped. Its own completion, with its real result, is still to come.
//   - -ENOENT: there was nothing to cancel: the target had completed (its
//     completion may not have been handled yet).
//
// Whatever the answer, the target completes exactly once, and only its own
// completion says how it ended and gives its buffer back.
//
// On io_uring the kernel answers. On epoll a pending op is an armed
// readiness interest with no system call under way, so the cancel finds it
// either waiting, and stops it at once (its completion comes before the
// cancel's), or done: the answer is 0 or -ENOENT, never -EALREADY.
//
// Like every op it must be created on the loop. [Op.Cancel] is the
// fire-and-forget form, safe from any goroutine, whose answer only the
// trace shows.
func (l *Loop) AsyncCancel(target *Op) *Op {
	if target == nil {
		panic("engine: AsyncCancel of a nil op")
	}
	op := l.newOp(OpAsyncCancel, -1)
	op.target, op.answered = target.id, true
	return op
}
