// Corpus: pass
// Approach: Picks the natural style per backend: on io_uring a completion-based IORING_OP_CONNECT linked to a LinkTimeout, on epoll a readiness watch with an AfterFunc deadline and SO_ERROR.
package handler

import (
	"errors"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	if l.Backend() == engine.Uring {
		viaRing(l, s, fd, addr, deadline, done)
		return
	}
	viaReadiness(l, s, fd, addr, deadline, done)
}

func viaRing(l *engine.Loop, s *sys.Sys, fd int, addr sys.Sockaddr, deadline time.Duration, done func(int, error)) {
	op := l.Connect(fd, addr).Order(engine.Link)
	l.LinkTimeout(deadline)
	op.Then(func(_ int, err error) {
		if err == nil {
			done(fd, nil)
			return
		}
		s.Close(fd)
		if errors.Is(err, sys.ECANCELED) {
			err = sys.ETIMEDOUT
		}
		done(-1, err)
	})
}

func viaReadiness(l *engine.Loop, s *sys.Sys, fd int, addr sys.Sockaddr, deadline time.Duration, done func(int, error)) {
	if err := s.Connect(fd, addr); err == nil {
		done(fd, nil)
		return
	} else if err != sys.EINPROGRESS {
		s.Close(fd)
		done(-1, err)
		return
	}
	var w *engine.Watch
	var t *engine.Timer
	closed := false
	finish := func(err error) {
		if closed {
			return
		}
		closed = true
		w.Stop()
		t.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	}
	w, err := l.OnWritable(fd, "connected", func(uint32) {
		if closed {
			return
		}
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		finish(err)
	})
	if err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}
	t = l.AfterFunc("deadline", deadline, func() { finish(sys.ETIMEDOUT) })
}
