// Corpus: pass
// Approach: Defers the whole attempt to its own callback with l.Queue, and on failure closes the socket with the loop's asynchronous l.Close op, reporting the error from that close's completion.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	l.Queue("start connect", func() { start(l, addr, deadline, done) })
}

func start(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	// closeAndReport hands the descriptor back asynchronously and reports
	// the failure once it is really gone.
	closeAndReport := func(cause error) {
		l.Close(fd).Then(func(int, error) { done(-1, cause) })
	}

	err = s.Connect(fd, addr)
	if err == nil {
		done(fd, nil)
		return
	}
	if err != sys.EINPROGRESS {
		closeAndReport(err)
		return
	}

	pending := true
	var w *engine.Watch
	var t *engine.Timer
	w, err = l.OnWritable(fd, "connected", func(uint32) {
		if !pending {
			return
		}
		pending = false
		w.Stop()
		t.Stop()
		soerr, err := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
		if err == nil && soerr != 0 {
			err = sys.Errno(soerr)
		}
		if err != nil {
			closeAndReport(err)
			return
		}
		done(fd, nil)
	})
	if err != nil {
		closeAndReport(err)
		return
	}
	t = l.AfterFunc("deadline", deadline, func() {
		if !pending {
			return
		}
		pending = false
		w.Stop()
		closeAndReport(sys.ETIMEDOUT)
	})
}
