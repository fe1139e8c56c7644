package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive reads one chunk per readiness report on epoll, as if the loop
// would call again while data remains. Level-triggered it does; edge-
// triggered it does not, and the rest of the message waits forever.
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
		n, err := s.Read(fd, buf[:min(chunk, size-len(msg))])
		if err == sys.EAGAIN {
			return
		}
		if err != nil {
			w.Stop()
			done(msg, err)
			return
		}
		msg = append(msg, buf[:n]...) // wrong: one read per wakeup
		if len(msg) == size {
			w.Stop()
			done(msg, nil)
		}
	})
	if err != nil {
		done(nil, err)
	}
}
