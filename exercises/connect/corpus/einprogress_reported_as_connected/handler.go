// Corpus: fail no-premature-use outcome real-connection waits-writable
// Mistake: Reads EINPROGRESS as "started, so good" and hands the still-pending socket to the caller as connected, without waiting for writability or reading SO_ERROR.
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
	// EINPROGRESS means started, not failed.
	done(fd, nil)
}
