// Corpus: pass
// Approach: A small state-machine struct with an idempotent finish method; the writable callback looks at the event mask for logging but always lets SO_ERROR decide, and on failure it reports first and closes right after in the same callback.
package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

type state int

const (
	connecting state = iota
	connected
	failed
)

type attempt struct {
	l     *engine.Loop
	s     *sys.Sys
	fd    int
	st    state
	watch *engine.Watch
	timer *engine.Timer
	done  func(fd int, err error)
}

// finish stops both waiters and reports once; later calls do nothing.
func (a *attempt) finish(err error) {
	if a.st != connecting {
		return
	}
	if a.watch != nil {
		a.watch.Stop()
	}
	if a.timer != nil {
		a.timer.Stop()
	}
	if err == nil {
		a.st = connected
		a.done(a.fd, nil)
		return
	}
	a.st = failed
	a.done(-1, err)
	a.s.Close(a.fd) // reported and closed in the same callback
}

func (a *attempt) onWritable(events uint32) {
	if a.st != connecting {
		return
	}
	if events&(sys.EPOLLERR|sys.EPOLLHUP) != 0 {
		a.l.Mark(fmt.Sprintf("writable with error bits %#x", events))
	}
	soerr, err := a.s.GetsockoptInt(a.fd, sys.SOL_SOCKET, sys.SO_ERROR)
	if err != nil {
		a.finish(err)
		return
	}
	if soerr != 0 {
		a.finish(sys.Errno(soerr))
		return
	}
	a.finish(nil)
}

func (a *attempt) onDeadline() { a.finish(sys.ETIMEDOUT) }

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	a := &attempt{l: l, s: l.Sys(), fd: -1, done: done}
	fd, err := a.s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	a.fd = fd
	switch err := a.s.Connect(fd, addr); err {
	case nil:
		a.finish(nil)
		return
	case sys.EINPROGRESS:
	default:
		a.finish(err)
		return
	}
	if a.watch, err = l.OnWritable(fd, "connect finished", a.onWritable); err != nil {
		a.finish(err)
		return
	}
	a.timer = l.AfterFunc("connect deadline", deadline, a.onDeadline)
}
