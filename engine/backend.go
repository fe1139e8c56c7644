package engine

import "time"

// backend is what a loop needs from epoll or io_uring. Every method is
// called on the loop's thread except wake, which is safe for concurrent use.
type backend interface {
	// queue takes an op that was just created. Both backends hold it until
	// the turn's flush: io_uring then writes the SQEs of the turn, which
	// are submitted together; epoll tries each call and arms readiness if
	// it would block.
	queue(op *Op)
	// cancel asks for op to be cancelled. The op's own completion still
	// decides the outcome.
	cancel(op *Op)
	// flush hands what was queued this turn to the kernel, as far as it
	// can without waiting. It may complete ops or arm timers, so the loop
	// calls it before it decides how long to wait.
	flush() error
	// wait submits what flush wrote, then blocks for at most timeout (-1:
	// forever, 0: poll) and turns what happened into completions and
	// callbacks on the loop's queue. The loop calls it right after flush.
	wait(timeout time.Duration) error
	// watch and unwatch register raw readiness callbacks for a file
	// descriptor (Loop.OnReadable and Loop.OnWritable).
	watch(w *Watch) error
	unwatch(w *Watch) error
	// rearm is called after a watch's callback ran, for backends that
	// deliver one readiness event per arming.
	rearm(w *Watch)
	// wake makes a blocked wait return; it is safe for concurrent use.
	wake()
	close() error
}
