// Corpus: fail outcome
// Mistake: Never stops the OnWritable watch after the first report, so the level-triggered watch fires again on every turn of a connected socket and done is called over and over.
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

	var t *engine.Timer
	w, err := l.OnWritable(fd, "connected", func(uint32) {
		t.Stop()
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		if err != nil {
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
		w.Stop()
		s.Close(fd)
		done(-1, sys.ETIMEDOUT)
	})
}
