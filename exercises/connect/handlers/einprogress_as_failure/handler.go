package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect treats EINPROGRESS as a failure: the handshake has only started.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	if err := s.Connect(fd, addr); err != nil {
		s.Close(fd)
		done(-1, err) // wrong: EINPROGRESS is not an error
		return
	}
	done(fd, nil)
}
