package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect waits for readability instead of writability. A connected socket
// is not readable until the peer sends something.
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
	w, _ = l.OnReadable(fd, "connect finished?", func(uint32) { // wrong: wait for writable
		w.Stop()
		timer.Stop()
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		finish(err)
	})
}
