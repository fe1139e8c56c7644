// Corpus: pass
// Approach: OnWritable watch for the handshake, but the deadline is an l.Timeout op (a ring TIMEOUT on io_uring) that is cancelled once the watch answers; SO_ERROR decides success or failure.
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
	if err = s.Connect(fd, addr); err == nil {
		done(fd, nil)
		return
	} else if !errors.Is(err, sys.EINPROGRESS) {
		s.Close(fd)
		done(-1, err)
		return
	}

	answered := false
	timeout := l.Timeout(deadline)
	var w *engine.Watch
	w, err = l.OnWritable(fd, "handshake over", func(uint32) {
		if answered {
			return
		}
		answered = true
		w.Stop()
		timeout.Cancel()
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
	if err != nil {
		answered = true
		timeout.Cancel()
		s.Close(fd)
		done(-1, err)
		return
	}
	timeout.Then(func(_ int, err error) {
		if answered || errors.Is(err, sys.ECANCELED) {
			return
		}
		answered = true
		w.Stop()
		s.Close(fd)
		done(-1, sys.ETIMEDOUT)
	})
}
