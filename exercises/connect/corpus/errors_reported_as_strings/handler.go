// Corpus: fail outcome
// Mistake: Does the dance right but reports failures as fresh string errors (fmt.Errorf with %v, errors.New("timed out")) instead of the real errno values, so the caller cannot tell ECONNREFUSED or ETIMEDOUT from them.
package handler

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

var errTimedOut = errors.New("connect timed out")

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, fmt.Errorf("socket: %v", err))
		return
	}
	err = s.Connect(fd, addr)
	if err == nil {
		done(fd, nil)
		return
	}
	if err != sys.EINPROGRESS {
		s.Close(fd)
		done(-1, fmt.Errorf("connect: %v", err))
		return
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
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err != nil {
			s.Close(fd)
			done(-1, fmt.Errorf("getsockopt: %v", err))
			return
		}
		if soerr != 0 {
			s.Close(fd)
			done(-1, fmt.Errorf("connect failed: %v", sys.Errno(soerr)))
			return
		}
		done(fd, nil)
	})
	if err != nil {
		s.Close(fd)
		done(-1, fmt.Errorf("watch: %v", err))
		return
	}
	t = l.AfterFunc("deadline", deadline, func() {
		if finished {
			return
		}
		finished = true
		w.Stop()
		s.Close(fd)
		done(-1, errTimedOut)
	})
}
