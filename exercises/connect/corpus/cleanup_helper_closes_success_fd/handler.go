// Corpus: fail real-connection
// Mistake: Funnels every ending through one cleanup helper that stops the watch and timer and always closes the socket, so a successful connect is reported with a descriptor that is already closed.
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

	var w *engine.Watch
	var t *engine.Timer
	finished := false
	finish := func(err error) {
		if finished {
			return
		}
		finished = true
		if w != nil {
			w.Stop()
		}
		if t != nil {
			t.Stop()
		}
		s.Close(fd) // clean up
		if err != nil {
			done(-1, err)
			return
		}
		done(fd, nil)
	}

	err = s.Connect(fd, addr)
	if err == nil || err != sys.EINPROGRESS {
		finish(err)
		return
	}
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		finish(err)
	})
	if err != nil {
		finish(err)
		return
	}
	t = l.AfterFunc("deadline", deadline, func() { finish(sys.ETIMEDOUT) })
}
