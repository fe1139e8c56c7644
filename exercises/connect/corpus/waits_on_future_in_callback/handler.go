// Corpus: fail never-blocked outcome deadline no-fd-leak
// Mistake: Calls Future.Wait on the connect op's future from inside the handler, which can never return on the loop's own thread (the run ends in a deadlock).
package handler

import (
	"errors"
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
	l.AfterFunc("deadline", deadline, func() { op.Cancel() })
	_, err = op.Future().Wait()
	switch {
	case err == nil:
		done(fd, nil)
	case errors.Is(err, sys.ECANCELED):
		s.Close(fd)
		done(-1, sys.ETIMEDOUT)
	default:
		s.Close(fd)
		done(-1, err)
	}
}
