package engine

import (
	"fmt"
	"time"
)

// DeadlockError ends a run in which a callback blocked on a future that only
// its own loop could resolve.
type DeadlockError struct {
	Handler string // the callback that blocked
	Future  string // the future it blocked on
	How     string // "Wait" or "spinning on Done"
}

func (e *DeadlockError) Error() string {
	return fmt.Sprintf("deadlock: handler %q called %s on future %q on the loop's own thread; "+
		"only this loop can resolve it, so the loop would wait forever (use Then or Await instead)",
		e.Handler, e.How, e.Future)
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
