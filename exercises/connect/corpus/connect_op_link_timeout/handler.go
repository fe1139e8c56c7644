// Corpus: pass
// Approach: Chains l.Connect with Order(engine.Link) to an l.LinkTimeout(deadline), so the kernel (or the epoll emulation) cancels the connect at the deadline; ECANCELED from the connect is reported as ETIMEDOUT.
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

	conn := l.Connect(fd, addr).Order(engine.Link)
	l.LinkTimeout(deadline)
	conn.Then(func(_ int, err error) {
		switch {
		case err == nil:
			done(fd, nil)
		case errors.Is(err, sys.ECANCELED):
			// Only the linked timeout cancels this op.
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
		default:
			s.Close(fd)
			done(-1, err)
		}
	})
}
