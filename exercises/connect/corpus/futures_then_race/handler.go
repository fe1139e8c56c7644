// Corpus: pass
// Approach: Future-style without coroutines: the POLLOUT poll's Future and an l.After deadline future each get a Then, and a settled flag lets only the first continuation act (the deadline cancels the poll).
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
	err = s.Connect(fd, addr)
	if err == nil {
		done(fd, nil)
		return
	}
	if err != sys.EINPROGRESS {
		s.Close(fd)
		done(-1, err)
		return
	}

	settled := false
	poll := l.PollAdd(fd, sys.POLLOUT)
	writable := poll.Future()
	expired := l.After("connect deadline", deadline)

	writable.Then(func(_ int, err error) {
		if settled {
			return // the deadline won and already closed the socket
		}
		settled = true
		if err == nil {
			var soerr int
			soerr, err = s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
			if err == nil && soerr != 0 {
				err = sys.Errno(soerr)
			}
		}
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
	expired.Then(func(struct{}, error) {
		if settled {
			return
		}
		settled = true
		poll.Cancel()
		s.Close(fd)
		done(-1, sys.ETIMEDOUT)
	})
}
