package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive makes the socket blocking at the first readiness report on
// epoll and reads the rest of the message there, chunk by chunk: each read
// that finds the socket empty waits for the next packet on the loop's own
// thread, and every other callback waits with it.
func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error)) {
	if l.Backend() == engine.Uring {
		msg := make([]byte, size)
		l.Recv(fd, msg, sys.MSG_WAITALL).Then(func(n int, err error) { done(msg[:max(n, 0)], err) })
		return
	}
	s := l.Sys()
	msg := make([]byte, 0, size)
	buf := make([]byte, chunk)
	var w *engine.Watch
	w, err := l.OnReadable(fd, "socket readable", func(uint32) {
		w.Stop()
		s.SetNonblock(fd, false) // wrong: the reads below now wait
		for len(msg) < size {
			n, err := s.Read(fd, buf[:min(chunk, size-len(msg))])
			if err != nil || n == 0 {
				done(msg, err)
				return
			}
			msg = append(msg, buf[:n]...)
		}
		done(msg, nil)
	})
	if err != nil {
		done(nil, err)
	}
}
