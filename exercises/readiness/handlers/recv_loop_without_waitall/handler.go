package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive gets the whole message on io_uring, but with a RECV per packet:
// without MSG_WAITALL each completes with what had arrived, and it submits
// the next for the rest. Right bytes, five completions.
func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error)) {
	if l.Backend() == engine.Uring {
		msg := make([]byte, size)
		got := 0
		var recv func()
		recv = func() {
			l.Recv(fd, msg[got:], 0).Then(func(n int, err error) { // wrong: no MSG_WAITALL
				if err != nil || n == 0 {
					done(msg[:got], err)
					return
				}
				if got += n; got < size {
					recv()
					return
				}
				done(msg, nil)
			})
		}
		recv()
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
