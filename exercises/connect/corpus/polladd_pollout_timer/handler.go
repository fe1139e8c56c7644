// Corpus: pass
// Approach: Connects with the traced syscall, then waits for writability with a one-shot l.PollAdd(fd, POLLOUT) op instead of a watch; an AfterFunc deadline cancels the poll, and SO_ERROR is read from the poll's completion.
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
	switch err = s.Connect(fd, addr); {
	case err == nil:
		done(fd, nil)
		return
	case !errors.Is(err, sys.EINPROGRESS):
		s.Close(fd)
		done(-1, err)
		return
	}

	expired := false
	poll := l.PollAdd(fd, sys.POLLOUT)
	timer := l.AfterFunc("deadline", deadline, func() {
		expired = true
		poll.Cancel()
	})
	poll.Then(func(_ int, err error) {
		if expired {
			// Cancelled at the deadline, or it completed in the same turn
			// the deadline fired: either way, the deadline has passed.
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
			return
		}
		timer.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
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
}
