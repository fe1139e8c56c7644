package engine

import "time"

// Drain, as the kernel does it and as the epoll backend emulates it.
//
// IOSQE_IO_DRAIN holds an op until every op submitted before it has
// completed, and holds every op submitted after it until it has completed.
// Linux 6.16 and later go further (the drain rework that counts requests
// instead of sequence numbers): after a drain the ring stays in drain mode
// until a submission finds it idle, and until then every new SQE, drained
// or not, waits for every op in flight. One op that never completes by
// itself, such as the loop's wake READ, would hold the ring's every later
// op for as long as it waits: so the wake READ is retired around a drained
// op and armed again only once the ring is idle.

// wakePoll is how often a blocked io_uring wait looks for posts while the
// wake READ is retired around a drain.
const wakePoll = time.Millisecond

// rearmWake arms the wake READ again once a drain retired it and the ring
// is idle, so that its submission finds nothing to wait for and ends the
// ring's drain mode. It returns the wait's timeout: capped at wakePoll
// until a wake READ armed after the drain has shown it works, so that
// posts are seen meanwhile.
func (b *uringBackend) rearmWake(timeout time.Duration) time.Duration {
	l := b.l
	if b.wakeOp == nil && !l.closed.Load() && l.inflight.len() == 0 && len(b.pending) == 0 {
		b.armWake()
		b.flush()
	}
	if !b.wakePolling {
		return timeout
	}
	if l.wakeSent.Load() {
		return 0
	}
	if timeout < 0 || timeout > wakePoll {
		return wakePoll
	}
	return timeout
}

// The epoll backend's drain. Every op gets a number in the order it was
// queued (Op.qseq), which is the order of SQEs in a ring. A drained op is
// held, in b.deferred, while an op queued before it is in flight; an op
// queued after a drained op that has not completed is held behind it, so
// that nothing overtakes it. The deferred ops start in queue order as the
// ops they wait for complete.

// drainGate reports whether op must wait behind a drain: a drained op
// queued before it is held or running, or op is itself drained and an op
// queued before it is still in flight.
func (b *epollBackend) drainGate(op *Op) bool {
	if len(b.deferred) > 0 && b.deferred[0].qseq < op.qseq {
		return true
	}
	for _, d := range b.draining {
		if d.qseq < op.qseq {
			return true
		}
	}
	return op.order&Drain != 0 && b.earlierInFlight(op)
}

// earlierInFlight reports whether an op queued before op has not completed.
func (b *epollBackend) earlierInFlight(op *Op) bool {
	found := false
	b.l.inflight.each(func(o *Op) {
		if o != op && o.qseq < op.qseq {
			found = true
		}
	})
	return found
}

// deferOp holds op behind a drain, keeping b.deferred in queue order.
func (b *epollBackend) deferOp(op *Op) {
	op.held = true
	i := len(b.deferred)
	for i > 0 && b.deferred[i-1].qseq > op.qseq {
		i--
	}
	b.deferred = append(b.deferred, nil)
	copy(b.deferred[i+1:], b.deferred[i:])
	b.deferred[i] = op
}

// releaseDeferred starts, in queue order, the held ops that no longer wait
// for anything: it stops at a drained op with an earlier op in flight, and
// after letting a drained op go (the ops behind it wait until it is done).
func (b *epollBackend) releaseDeferred() {
	for len(b.deferred) > 0 {
		d := b.deferred[0]
		for _, r := range b.draining {
			if r.qseq < d.qseq {
				return
			}
		}
		if d.order&Drain != 0 && b.earlierInFlight(d) {
			return
		}
		b.deferred = b.deferred[1:]
		if d.res >= 0 { // a chain head's failure holds it for its ECANCELED
			d.held = false
		}
		if d.order&Drain != 0 {
			b.draining = append(b.draining, d)
		}
		b.pending = append(b.pending, d)
	}
}
