package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once:
// with the connected fd, with the error the kernel reported, or with
// ETIMEDOUT when deadline passes first.
//
// This starter connects the blocking way: connect waits on the loop's own
// thread until the handshake is over, and the deadline is never looked at.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_CLOEXEC, 0)
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
