// Corpus: fail deadline
// Mistake: Uses l.Connect and at the deadline closes the socket and reports ETIMEDOUT, but never cancels the connect op, so on io_uring the ring keeps the socket (and its SYN retries) alive after the handler gave up on it.
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
	answered := false
	op := l.Connect(fd, addr)
	t := l.AfterFunc("deadline", deadline, func() {
		if answered {
			return
		}
		answered = true
		s.Close(fd) // closing the socket is enough, surely
		done(-1, sys.ETIMEDOUT)
	})
	op.Then(func(_ int, err error) {
		if answered {
			return
		}
		answered = true
		t.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
}
