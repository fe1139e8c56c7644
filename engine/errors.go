package engine

import (
	"fmt"
	"time"
)

// DeadlockError ends a run in which a callback blocked on a future that only
// its own loop could resolve: on the loop's own thread (Wait, or a loop on
// Done), or while another goroutine waited in Wait for one of the loop's
// futures (OffLoopWait).
type DeadlockError struct {
	Handler string // the callback that blocked
	Future  string // the future it, or the waiting goroutine, blocked on
	How     string // "Wait", "Done in a loop", or how the callback blocked

	// OffLoopWait reports that the callback blocked the loop's thread (on
	// a channel, a lock, a sleep or a system call) while another goroutine
	// waited in Wait for Future, which only the loop can resolve.
	OffLoopWait bool
}

func (e *DeadlockError) Error() string {
	if e.OffLoopWait {
		return fmt.Sprintf("deadlock: handler %q blocked the loop while another goroutine waits in Wait for future %q, "+
			"which only the loop can resolve (return from the callback and continue with Then, or post back with Loop.Post)",
			e.Handler, e.Future)
	}
	return fmt.Sprintf("deadlock: handler %q called %s on future %q on the loop's own thread; "+
		"only this loop can resolve it, so the loop would wait forever (use Then or Await instead)",
		e.Handler, e.How, e.Future)
}

// OffLoopError ends a run in which a goroutine other than the loop's called
// one of the loop's own methods, such as Queue or NewFuture.
type OffLoopError struct {
	Call string // the method called: "Queue", "Future.Then", ...
}

func (e *OffLoopError) Error() string {
	return fmt.Sprintf("%s called off the loop thread; use Loop.Post to hand work to the loop", e.Call)
}

// PanicError ends a run in which a callback panicked.
type PanicError struct {
	Handler string
	Value   string
	Stack   string
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("handler %q panicked: %s", e.Handler, e.Value)
}

// StallError reports a handler that held the loop past Config.StallLimit.
type StallError struct {
	Handler string
	Held    time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("handler %q has held the loop for %v without returning", e.Handler, e.Held.Round(time.Millisecond))
}
