// Corpus: fail outcome
// Mistake: Uses l.Connect and cancels it at the deadline as told, but passes the op's own error through, so a timeout is reported as ECANCELED instead of ETIMEDOUT.
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
	op := l.Connect(fd, addr)
	t := l.AfterFunc("deadline", deadline, func() { op.Cancel() })
	op.Then(func(_ int, err error) {
		t.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
}
