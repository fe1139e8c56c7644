package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive hands io_uring the whole buffer in one RECV, without
// MSG_WAITALL, and takes its completion for the message: it completes as
// soon as the first packet is there.
func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error)) {
	if l.Backend() == engine.Uring {
		msg := make([]byte, size)
		l.Recv(fd, msg, 0).Then(func(n int, err error) { // wrong: no MSG_WAITALL
			done(msg[:max(n, 0)], err)
		})
		return
	}
	s := l.Sys()
	msg := make([]byte, 0, size)
	buf := make([]byte, chunk)
	var w *engine.Watch
	w, err := l.OnReadable(fd, "socket readable", func(uint32) {
		for len(msg) < size {
			n, err := s.Read(fd, buf[:min(chunk, size-len(msg))])
			if err == sys.EAGAIN {
				return
			}
			if err != nil || n == 0 {
				w.Stop()
				done(msg, err)
				return
			}
			msg = append(msg, buf[:n]...)
		}
		w.Stop()
		done(msg, nil)
	})
	if err != nil {
		done(nil, err)
	}
}
