package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect calls connect again and again until it stops saying "in
// progress", holding the loop the whole time.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	start := l.Now()
	for {
		err := s.Connect(fd, addr)
		switch err {
		case sys.EINPROGRESS, sys.EALREADY:
			if l.Now()-start > deadline {
				s.Close(fd)
				done(-1, sys.ETIMEDOUT)
				return
			}
			continue // wrong: spinning on the loop's thread
		case nil, sys.EISCONN:
			done(fd, nil)
		default:
			s.Close(fd)
			done(-1, err)
		}
		return
	}
}
