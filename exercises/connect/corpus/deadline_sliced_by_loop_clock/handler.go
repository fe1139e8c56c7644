// Corpus: pass
// Approach: Computes an absolute deadline on the loop clock (l.Now) and re-arms a short timer slice until it is reached, next to an OnWritable watch; SO_ERROR is read when the watch fires.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const slice = 40 * time.Millisecond

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	end := l.Now() + deadline

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

	over := false
	var w *engine.Watch
	var tick *engine.Timer
	var arm func()
	arm = func() {
		left := end - l.Now()
		if left <= 0 {
			over = true
			w.Stop()
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
			return
		}
		tick = l.AfterFunc("deadline slice", min(left, slice), func() {
			if !over {
				arm()
			}
		})
	}
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		if over {
			return
		}
		over = true
		w.Stop()
		tick.Stop()
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
	arm()
}
