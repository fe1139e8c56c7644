// Corpus: pass
// Approach: An Async coroutine Awaits the future of an l.Connect op while an AfterFunc deadline cancels that op; after the await, a cancelled op means ETIMEDOUT and any other error is the kernel's.
package handler

import (
	"errors"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	l.Async("connect coroutine", func(co *engine.Co) {
		s := co.Loop().Sys()
		fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
		if err != nil {
			done(-1, err)
			return
		}
		op := l.Connect(fd, addr)
		timedOut := false
		t := l.AfterFunc("deadline", deadline, func() {
			timedOut = true
			op.Cancel()
		})
		_, err = engine.Await(co, op.Future())
		t.Stop()
		switch {
		case err == nil:
			done(fd, nil)
		case timedOut && errors.Is(err, sys.ECANCELED):
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
		default:
			s.Close(fd)
			done(-1, err)
		}
	})
}
