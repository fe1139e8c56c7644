// Corpus: fail outcome waits-writable
// Mistake: Treats any error from the non-blocking connect, EINPROGRESS included, as a failure: it closes the socket and reports EINPROGRESS instead of waiting for the handshake.
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
	if err := s.Connect(fd, addr); err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}
	done(fd, nil)
}
