// Corpus: pass
// Approach: Defensive variant: picks the socket family from the address, makes the socket non-blocking with SetNonblock before connecting, and after SO_ERROR says 0 confirms the peer with Getpeername (waiting on if the kernel says ENOTCONN).
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
	family := sys.AF_INET
	if _, ok := addr.(*sys.SockaddrInet6); ok {
		family = sys.AF_INET6
	}
	fd, err := s.Socket(family, sys.SOCK_STREAM|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	if err := s.SetNonblock(fd, true); err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}
	fail := func(err error) {
		s.Close(fd)
		done(-1, err)
	}

	err = s.Connect(fd, addr)
	switch {
	case err == nil:
		done(fd, nil)
		return
	case errors.Is(err, sys.EINTR), errors.Is(err, sys.EINPROGRESS):
		// Started: the handshake goes on in the kernel.
	default:
		fail(err)
		return
	}

	var (
		w     *engine.Watch
		timer *engine.Timer
		over  bool
	)
	w, err = l.OnWritable(fd, "connect writable", func(uint32) {
		if over {
			return
		}
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		if err == nil {
			if _, perr := s.Getpeername(fd); errors.Is(perr, sys.ENOTCONN) {
				return // not really there yet: keep the watch and the timer
			} else if perr != nil {
				err = perr
			}
		}
		over = true
		w.Stop()
		timer.Stop()
		if err != nil {
			fail(err)
			return
		}
		done(fd, nil)
	})
	if err != nil {
		fail(err)
		return
	}
	timer = l.AfterFunc("connect deadline", deadline, func() {
		if over {
			return
		}
		over = true
		w.Stop()
		fail(sys.ETIMEDOUT)
	})
}
