package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive reads the size-byte message that arrives on fd and calls done
// once with it.
//
// This starter receives once and reports whatever that one call returned:
// on epoll one read through the chunk-byte buffer after the first
// readiness report, on io_uring one RECV. Neither is the whole message.
func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error)) {
	if l.Backend() == engine.Uring {
		msg := make([]byte, size)
		l.Recv(fd, msg, 0).Then(func(n int, err error) {
			done(msg[:max(n, 0)], err)
		})
		return
	}

	s := l.Sys()
	buf := make([]byte, chunk)
	var w *engine.Watch
	w, err := l.OnReadable(fd, "socket readable", func(uint32) {
		n, err := s.Read(fd, buf)
		if err == sys.EAGAIN {
			return
		}
		w.Stop()
		done(buf[:max(n, 0)], err)
	})
	if err != nil {
		done(nil, err)
	}
}
