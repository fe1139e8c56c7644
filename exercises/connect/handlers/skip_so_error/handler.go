package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect waits for writability but never reads SO_ERROR, so a refused
// connection looks like a success.
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
	err = s.Connect(fd, addr)
	if err != sys.EINPROGRESS {
		finish(err)
		return
	}
	var w *engine.Watch
	timer := l.AfterFunc("deadline", deadline, func() {
		w.Stop()
		finish(sys.ETIMEDOUT)
	})
	w, _ = l.OnWritable(fd, "connect finished", func(uint32) {
		w.Stop()
		timer.Stop()
		finish(nil) // wrong: writable also means "failed"; SO_ERROR says which
	})
}
