// Corpus: fail deadline outcome no-fd-leak
// Mistake: Waits for writability and reads SO_ERROR correctly but never arms a deadline, so against the full accept queue it waits on long after the 300 ms and the socket stays open.
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
	var w *engine.Watch
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		w.Stop()
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
	}
}
