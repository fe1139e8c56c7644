// Corpus: pass
// Approach: Readiness through the ring: the POLLOUT poll is linked to a LinkTimeout so the deadline cancels it in the kernel, and SO_ERROR is read only when the poll itself completed with a ready mask.
package handler

import (
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
	fail := func(err error) {
		s.Close(fd)
		done(-1, err)
	}
	if err := s.Connect(fd, addr); err != sys.EINPROGRESS {
		if err != nil {
			fail(err)
			return
		}
		done(fd, nil)
		return
	}

	poll := l.PollAdd(fd, sys.POLLOUT).Order(engine.Link)
	l.LinkTimeout(deadline)
	poll.OnDone(func(op *engine.Op) {
		if op.Res() == -int32(sys.ECANCELED) {
			fail(sys.ETIMEDOUT)
			return
		}
		if op.Res() < 0 {
			_, err := op.Result()
			fail(err)
			return
		}
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		switch {
		case err != nil:
			fail(err)
		case soerr != 0:
			fail(sys.Errno(soerr))
		default:
			done(fd, nil)
		}
	})
}
