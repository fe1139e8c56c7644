package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect is the reference, except that it gives up at half the deadline
// it is given, "to leave a margin": a slow peer is reported timed out
// before its time.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	answered := false
	finish := func(err error) {
		if answered {
			return
		}
		answered = true
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	}

	if l.Backend() == engine.Uring {
		// Completion: ask the kernel to connect and hear back when it has.
		op := l.Connect(fd, addr)
		timer := l.AfterFunc("deadline", deadline/2, op.Cancel)
		op.Then(func(_ int, err error) {
			timer.Stop()
			if err == sys.ECANCELED {
				err = sys.ETIMEDOUT
			}
			finish(err)
		})
		return
	}

	// Readiness: EINPROGRESS means started; writable means finished; SO_ERROR
	// says how it finished.
	err = s.Connect(fd, addr)
	if err != sys.EINPROGRESS {
		finish(err)
		return
	}
	var w *engine.Watch
	timer := l.AfterFunc("deadline", deadline/2, func() {
		w.Stop()
		finish(sys.ETIMEDOUT)
	})
	w, err = l.OnWritable(fd, "connect finished", func(uint32) {
		w.Stop()
		timer.Stop()
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		finish(err)
	})
	if err != nil {
		timer.Stop()
		finish(err)
	}
}
