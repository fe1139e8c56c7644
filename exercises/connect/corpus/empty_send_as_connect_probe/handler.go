// Corpus: fail no-premature-use waits-writable
// Mistake: Instead of a writability wait plus SO_ERROR it queues an empty l.Send on the socket right after EINPROGRESS ("a send only completes once connected"), i.e. it uses the pending connection as if it were connected.
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
	if err == nil {
		done(fd, nil)
		return
	}
	if err != sys.EINPROGRESS {
		s.Close(fd)
		done(-1, err)
		return
	}

	expired := false
	probe := l.Send(fd, []byte{}, sys.MSG_NOSIGNAL)
	t := l.AfterFunc("deadline", deadline, func() {
		expired = true
		probe.Cancel()
	})
	probe.Then(func(_ int, err error) {
		t.Stop()
		switch {
		case expired:
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
		case err != nil:
			s.Close(fd)
			done(-1, err)
		default:
			done(fd, nil)
		}
	})
}
