// Corpus: fail waits-writable no-premature-use outcome real-connection
// Mistake: Reads SO_ERROR immediately after connect returns EINPROGRESS, sees 0 because the handshake is still running, and reports the pending socket as connected.
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
	if err != nil && err != sys.EINPROGRESS {
		s.Close(fd)
		done(-1, err)
		return
	}
	// EINPROGRESS: ask the socket how it went.
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
}
