// Corpus: pass
// Approach: Runs as an Async coroutine that Awaits one future resolved by whichever comes first, the OnWritable watch or the AfterFunc deadline, then reads SO_ERROR in straight-line code.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	l.Async("connect", func(co *engine.Co) {
		s := l.Sys()
		fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
		if err != nil {
			done(-1, err)
			return
		}
		if err := s.Connect(fd, addr); err != sys.EINPROGRESS {
			if err != nil {
				s.Close(fd)
				done(-1, err)
				return
			}
			done(fd, nil)
			return
		}

		// First of two: a second Resolve is ignored, so the loser is harmless.
		first := engine.NewFuture[bool](l, "writable or deadline")
		w, err := l.OnWritable(fd, "writable", func(uint32) { first.Resolve(true, nil) })
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		t := l.AfterFunc("deadline", deadline, func() { first.Resolve(false, nil) })

		writable, _ := engine.Await(co, first)
		w.Stop()
		t.Stop()
		if !writable {
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
			return
		}
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
}
