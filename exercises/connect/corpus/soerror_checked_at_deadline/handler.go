// Corpus: fail waits-writable
// Mistake: When the deadline fires it reads SO_ERROR "one last time" to report a better error than ETIMEDOUT, although the socket never became writable; the reported outcome is still right.
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
	soError := func() error {
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err != nil {
			return err
		}
		if soerr != 0 {
			return sys.Errno(soerr)
		}
		return nil
	}

	var w *engine.Watch
	var t *engine.Timer
	finished := false
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		if finished {
			return
		}
		finished = true
		w.Stop()
		t.Stop()
		if err := soError(); err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	})
	if err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}
	t = l.AfterFunc("deadline", deadline, func() {
		if finished {
			return
		}
		finished = true
		w.Stop()
		err := soError() // maybe the kernel knows why
		if err == nil {
			err = sys.ETIMEDOUT
		}
		s.Close(fd)
		done(-1, err)
	})
}
