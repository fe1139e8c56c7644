// Corpus: pass
// Approach: The deadline is kept by a helper goroutine that waits on a time.Timer and hands the expiry back to the loop with l.Post; all socket work stays on the loop, and a closed channel tells the goroutine to quit early.
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

	// Loop-owned state: only touched by callbacks running on the loop.
	finished := false
	stop := make(chan struct{})
	var w *engine.Watch
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		if finished {
			return
		}
		finished = true
		close(stop)
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
		return
	}

	go func() {
		t := time.NewTimer(deadline)
		defer t.Stop()
		select {
		case <-stop:
		case <-t.C:
			l.Post("deadline", func() {
				if finished {
					return
				}
				finished = true
				w.Stop()
				s.Close(fd)
				done(-1, sys.ETIMEDOUT)
			})
		}
	}()
}
