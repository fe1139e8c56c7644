// Corpus: pass
// Approach: Lets the loop do the whole dance with l.Connect and op.Then; an AfterFunc deadline reports ETIMEDOUT at once and cancels the op, and the op's own completion closes the socket whenever the connection is not handed over.
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

	reported := false
	op := l.Connect(fd, addr)
	timer := l.AfterFunc("connect deadline", deadline, func() {
		if reported {
			return
		}
		// Report now; the op's completion (ECANCELED, or a late result)
		// still arrives and closes the socket below.
		reported = true
		op.Cancel()
		done(-1, sys.ETIMEDOUT)
	})
	op.Then(func(_ int, err error) {
		if reported {
			// The deadline already answered: whatever the op says now,
			// nobody will use this socket.
			s.Close(fd)
			return
		}
		reported = true
		timer.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
}
