package engine

import "github.com/asynclab/asynclab/engine/trace"

// Watch is a raw readiness callback registered with [Loop.OnReadable] or
// [Loop.OnWritable]. It is owned by its loop.
type Watch struct {
	l      *Loop
	fd     int
	events uint32 // sys.EPOLLIN or sys.EPOLLOUT
	name   trace.NameID
	key    int64 // see task.key
	fn     func(events uint32)
	active bool
	queued bool // a callback is queued and has not run yet
	poll   *Op  // io_uring: the armed POLL_ADD
}

// OnReadable calls fn, as a callback named name, whenever fd is readable.
// With the default level trigger fn is called again on every turn while
// data remains, so it may read once or until EAGAIN; with EdgeTriggered it
// must read until EAGAIN or it will not hear from fd again.
func (l *Loop) OnReadable(fd int, name string, fn func(events uint32)) (*Watch, error) {
	return l.watch(0, fd, epollIn, name, fn)
}

// OnWritable calls fn, as a callback named name, whenever fd is writable.
// A non-blocking connect in progress becomes writable when it finishes,
// whether it succeeded or failed: read SO_ERROR to learn which.
func (l *Loop) OnWritable(fd int, name string, fn func(events uint32)) (*Watch, error) {
	return l.watch(0, fd, epollOut, name, fn)
}

func (l *Loop) watch(key int64, fd int, ev uint32, name string, fn func(uint32)) (*Watch, error) {
	l.mustOnLoop("OnReadable/OnWritable")
	w := &Watch{l: l, fd: fd, events: ev, name: l.rec.Intern(name), key: key, fn: fn, active: true}
	if err := l.be.watch(w); err != nil {
		return nil, err
	}
	return w, nil
}

// Stop removes the watch. A callback already queued does not run.
func (w *Watch) Stop() error {
	w.l.mustOnLoop("Watch.Stop")
	if !w.active {
		return nil
	}
	w.active = false
	return w.l.be.unwatch(w)
}

// fire queues the watch's callback unless one is already waiting to run.
func (w *Watch) fire(events uint32) {
	if w.queued || !w.active {
		return
	}
	w.queued = true
	w.l.queueTask(task{name: w.name, ready: w.l.stamp(), key: w.key, fn: func() {
		w.queued = false
		if w.active {
			w.fn(events)
			w.l.be.rearm(w)
		}
	}})
}
