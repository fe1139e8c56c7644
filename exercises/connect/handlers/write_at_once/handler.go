package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect writes at once, as if the connect had finished, and reports
// success without waiting for the handshake.
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
	s.Write(fd, []byte("hello")) // wrong: the connection is still pending
	done(fd, nil)
}
