package engine

import (
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine/trace"
)

// spinLimit is how many times one callback may poll Done on the same
// unresolved future before the loop calls it a deadlock. Nothing but the
// loop can resolve a loop-owned future, so within one callback the answer
// can never change: a callback that keeps asking is spinning forever.
const spinLimit = 1000

// Future is a value that a loop will produce later. It is owned by its loop:
// Resolve, Then and Done belong on the loop's thread. Wait may be called
// from any goroutine except the loop's own, where it is a deadlock.
type Future[T any] struct {
	l    *Loop
	id   uint64
	name trace.NameID
	then trace.NameID // handler name of continuations

	done  bool
	val   T
	err   error
	conts []cont[T]

	spinRun   uint64 // runSeq of the callback that last polled Done
	spinCount int

	mu      sync.Mutex // guards waitCh and published for off-loop waiters
	waitCh  chan struct{}
	publish bool
}

// NewFuture returns an unresolved future named name, owned by l.
func NewFuture[T any](l *Loop, name string) *Future[T] {
	l.mustOnLoop("NewFuture")
	f := &Future[T]{l: l, id: l.newID(), name: l.rec.Intern(name), then: l.rec.Intern("then " + name)}
	l.rec.Emit(trace.Event{Kind: trace.KindFuture, Phase: trace.PhaseCreate, Time: l.stamp(),
		Op: f.id, Name: f.name, Fd: -1})
	return f
}

// Name returns the name the future was created with.
func (f *Future[T]) Name() string { return f.l.rec.Name(f.name) }

// ID returns the future's id, as recorded in the trace.
func (f *Future[T]) ID() uint64 { return f.id }

// Resolve sets the future's value and queues its continuations. A second
// Resolve is ignored. Called off the loop, it records an off-loop lint and
// hands the resolution to the loop, because the future's state belongs to
// the loop.
func (f *Future[T]) Resolve(v T, err error) {
	if !f.l.OnLoop() && f.l.tid.Load() != 0 {
		f.l.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: f.l.stamp(),
			Arg0: int64(trace.LintOffLoop), Op: f.id, Fd: -1,
			Name: f.l.rec.Intern(fmt.Sprintf("future %q resolved off the loop thread; post the result back with Loop.Post", f.Name()))})
		f.l.Post("resolve "+f.Name(), func() { f.Resolve(v, err) })
		return
	}
	if f.done {
		return
	}
	f.done, f.val, f.err = true, v, err
	res := int64(0)
	if err != nil {
		res = -1
	}
	f.l.rec.Emit(trace.Event{Kind: trace.KindFuture, Phase: trace.PhaseResolve, Time: f.l.stamp(),
		Op: f.id, Name: f.name, Res: res, Fd: -1})
	for _, c := range f.conts {
		f.queueCont(c.name, c.fn)
	}
	f.conts = nil
	f.mu.Lock()
	f.publish = true
	if f.waitCh != nil {
		close(f.waitCh)
	}
	f.mu.Unlock()
}

// cont is a continuation and the handler name it runs under.
type cont[T any] struct {
	name trace.NameID
	fn   func(T, error)
}

func (f *Future[T]) queueCont(name trace.NameID, c func(T, error)) {
	f.l.queueTask(task{name: name, ready: f.l.stamp(), op: f.id, fn: func() { c(f.val, f.err) }})
}

// Then runs fn on the loop, as its own callback, once the future resolves.
// If it has already resolved, fn is queued at once.
func (f *Future[T]) Then(fn func(v T, err error)) {
	f.l.mustOnLoop("Future.Then")
	f.thenNamed(f.then, fn)
}

func (f *Future[T]) thenNamed(name trace.NameID, fn func(T, error)) {
	if f.done {
		f.queueCont(name, fn)
		return
	}
	f.conts = append(f.conts, cont[T]{name, fn})
}

// Done reports whether the future has resolved. Polling Done in a loop
// inside a callback can never see it change; the loop reports that as a
// deadlock.
func (f *Future[T]) Done() bool {
	if !f.l.OnLoop() && f.l.tid.Load() != 0 {
		// Off the loop only the published state may be read.
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.publish
	}
	if f.done {
		return true
	}
	if f.spinRun != f.l.runSeq {
		f.spinRun, f.spinCount = f.l.runSeq, 0
	}
	f.spinCount++
	if f.spinCount >= spinLimit {
		f.deadlock("Done in a loop")
	}
	return false
}

// Value returns the resolved value and error. It must only be called once
// Done reports true.
func (f *Future[T]) Value() (T, error) { return f.val, f.err }

// Wait blocks until the future resolves and returns its value. Called on the
// loop's own thread for an unresolved future, it can never return: the loop
// is the only thing that can resolve it. Wait then records a deadlock lint
// and ends the run with a [DeadlockError] naming the handler and the future.
//
// On another goroutine Wait is allowed, but while it waits the loop must
// stay free to resolve the future: a callback that blocks the loop's
// thread meanwhile for Config.DeadlockLimit is reported as a deadlock. If
// the run ends first, Wait returns [ErrClosed].
func (f *Future[T]) Wait() (T, error) {
	if f.l.OnLoop() {
		f.l.rec.Emit(trace.Event{Kind: trace.KindFuture, Phase: trace.PhaseWait, Time: f.l.stamp(),
			Op: f.id, Name: f.name, Fd: -1})
		if f.done {
			return f.val, f.err
		}
		f.deadlock("Wait")
	}
	f.mu.Lock()
	if f.publish {
		f.mu.Unlock()
		return f.val, f.err
	}
	if f.waitCh == nil {
		f.waitCh = make(chan struct{})
	}
	ch := f.waitCh
	f.mu.Unlock()
	w, ok := f.l.waitOffLoop(f.id, f.name, func() {
		var zero T
		f.Resolve(zero, ErrClosed)
	})
	if !ok {
		select {
		case <-ch: // resolved as the run ended
			return f.val, f.err
		default:
			var zero T
			return zero, ErrClosed
		}
	}
	<-ch
	f.l.doneWaiting(w)
	return f.val, f.err
}

func (f *Future[T]) deadlock(how string) {
	err := &DeadlockError{Handler: f.l.currentHandler(), Future: f.Name(), How: how}
	f.l.rec.Emit(trace.Event{Kind: trace.KindLint, Time: f.l.stamp(), Arg0: int64(trace.LintDeadlock),
		Op: f.id, Name: f.l.rec.Intern(err.Error()), Fd: -1})
	panic(err)
}

// subscribe implements awaitable: fn runs as a callback named name.
func (f *Future[T]) subscribe(name trace.NameID, fn func()) {
	f.thenNamed(name, func(T, error) { fn() })
}

func (f *Future[T]) isDone() bool { return f.done }
