package engine

import (
	"context"
	"time"
)

// Harness schedules the callbacks of the program around a handler, such as
// a lab's harness, so that the trace tells them from the handler's own:
// each carries the harness's key (Arg1 of its handler Begin event and of its
// timer events). An analysis given the key ([trace.LintOptions.Harness])
// never charges the handler for them: a harness callback that a loaded
// machine stretched is no handler's long callback.
//
// The key is a secret of the run's, such as a random tag the grader passes
// to the harness alone. A handler can make a Harness of its own, but not
// with a key it does not know, so its callbacks stay its own.
type Harness struct {
	l   *Loop
	key int64
}

// Harness returns a scheduler whose callbacks carry key, which should not
// be 0 (0 marks the handler's callbacks).
func (l *Loop) Harness(key int64) Harness { return Harness{l: l, key: key} }

// Run is [Loop.Run] with the harness's start: the first callback, which
// sets the handler's world up, is the harness's.
func (h Harness) Run(ctx context.Context, name string, start func()) error {
	return h.l.run(ctx, h.key, name, start)
}

// Queue is [Loop.Queue] for the harness.
func (h Harness) Queue(name string, fn func()) { h.l.queueKeyed(h.key, name, fn) }

// Post is [Loop.Post] for the harness.
func (h Harness) Post(name string, fn func()) bool { return h.l.postKeyed(h.key, name, fn) }

// AfterFunc is [Loop.AfterFunc] for the harness.
func (h Harness) AfterFunc(name string, d time.Duration, fn func()) *Timer {
	return h.l.afterFunc(h.key, name, d, fn)
}

// OnWritable is [Loop.OnWritable] for the harness.
func (h Harness) OnWritable(fd int, name string, fn func(events uint32)) (*Watch, error) {
	return h.l.watch(h.key, fd, epollOut, name, fn)
}
