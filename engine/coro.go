package engine

import (
	"errors"
	"iter"
	"time"

	"github.com/asynclab/asynclab/engine/trace"
)

// errCoStopped unwinds a coroutine whose loop stopped while it was parked.
var errCoStopped = errors.New("engine: coroutine stopped")

// awaitable is what a coroutine can park on.
type awaitable interface {
	subscribe(name trace.NameID, fn func())
	isDone() bool
}

// Co is a running await-style coroutine. Its body reads like blocking code,
// but each [Await] parks the coroutine and gives the loop back until the
// awaited future resolves. Co is owned by its loop.
type Co struct {
	l     *Loop
	name  trace.NameID
	yield func(awaitable) bool
	next  func() (awaitable, bool)
	stop  func()
	done  *Future[struct{}]
}

// Async starts body as a coroutine named name. The body runs on the loop's
// thread, one step per callback, and the returned future resolves when it
// returns.
func (l *Loop) Async(name string, body func(co *Co)) *Future[struct{}] {
	l.mustOnLoop("Async")
	co := &Co{l: l, name: l.rec.Intern(name), done: NewFuture[struct{}](l, name+" done")}
	co.next, co.stop = iter.Pull(func(yield func(awaitable) bool) {
		co.yield = yield
		body(co)
	})
	l.queueTask(task{name: co.name, ready: l.stamp(), fn: co.step})
	return co.done
}

// Loop returns the loop the coroutine runs on.
func (co *Co) Loop() *Loop { return co.l }

// step runs the body until it parks or returns. Panics, including deadlock
// reports, travel out of next and end the run like any callback's.
func (co *Co) step() {
	w, ok := co.next()
	if !ok {
		co.done.Resolve(struct{}{}, nil)
		return
	}
	w.subscribe(co.name, co.step)
}

// Await parks co until f resolves and returns f's value. It gives the loop
// back in the meantime, so other callbacks run. It must be called from co's
// own body.
func Await[T any](co *Co, f *Future[T]) (T, error) {
	if !f.done {
		if !co.yield(f) {
			panic(errCoStopped)
		}
	}
	return f.val, f.err
}

// Sleep parks co for d.
func (co *Co) Sleep(d time.Duration) {
	Await(co, co.l.After("sleep", d))
}

// Yield parks co for one turn of the loop, so that callbacks queued behind it
// run first. Long computations call it between slices.
func (co *Co) Yield() {
	f := NewFuture[struct{}](co.l, "yield")
	co.l.queueTask(task{name: co.name, ready: co.l.stamp(), fn: func() { f.Resolve(struct{}{}, nil) }})
	Await(co, f)
}

// After returns a future that resolves once d has passed.
func (l *Loop) After(name string, d time.Duration) *Future[struct{}] {
	f := NewFuture[struct{}](l, name)
	l.AfterFunc(name, d, func() { f.Resolve(struct{}{}, nil) })
	return f
}
