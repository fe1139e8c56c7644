// Corpus: fail never-blocked
// Mistake: Instead of waiting for writability it re-calls connect in a loop with time.Sleep between tries (EALREADY means "still going", EISCONN means done), holding the loop for the whole handshake and up to the deadline.
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
	start := time.Now()
	for {
		err := s.Connect(fd, addr)
		switch err {
		case nil, sys.EISCONN:
			done(fd, nil)
			return
		case sys.EINPROGRESS, sys.EALREADY:
			if time.Since(start) >= deadline {
				s.Close(fd)
				done(-1, sys.ETIMEDOUT)
				return
			}
			time.Sleep(2 * time.Millisecond) // don't burn the CPU
		default:
			s.Close(fd)
			done(-1, err)
			return
		}
	}
}
