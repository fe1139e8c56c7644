// Corpus: pass
// Approach: Arms the deadline timer and the OnWritable watch before calling connect (the loop only polls after the callback returns, so the watch sees the socket as it is after connect), then tears both down if connect answers at once.
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
	live := true
	settle := func(err error) {
		if !live {
			return
		}
		live = false
		if w != nil {
			w.Stop()
		}
		t.Stop()
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	}
	t = l.AfterFunc("deadline", deadline, func() { settle(sys.ETIMEDOUT) })
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		if !live {
			return
		}
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		settle(err)
	})
	if err != nil {
		settle(err)
		return
	}

	switch err := s.Connect(fd, addr); err {
	case sys.EINPROGRESS:
		// The watch and the timer are already waiting.
	default:
		settle(err) // nil: connected at once; anything else: failed at once
	}
}
