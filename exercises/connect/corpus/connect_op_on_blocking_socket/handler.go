// Corpus: fail never-blocked deadline outcome
// Mistake: Uses l.Connect with a cancelling deadline but drops SOCK_NONBLOCK ("the kernel does the dance"), which works on io_uring but makes the epoll backend's connect call block the loop against the full accept queue.
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
	// io_uring's CONNECT is asynchronous anyway, so no SOCK_NONBLOCK.
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	timedOut := false
	op := l.Connect(fd, addr)
	t := l.AfterFunc("deadline", deadline, func() {
		timedOut = true
		op.Cancel()
	})
	op.Then(func(_ int, err error) {
		t.Stop()
		switch {
		case err == nil:
			done(fd, nil)
		case timedOut && errors.Is(err, sys.ECANCELED):
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
		default:
			s.Close(fd)
			done(-1, err)
		}
	})
}
