package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// packet is the size of the peer's packets.
const packet = 1600

// Receive reads one packet's worth per readiness report on epoll, as if
// each report were one packet. Paced, it is; when packets arrive together
// the kernel reports them once, and edge-triggered the rest is never
// reported again.
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
		// wrong: one wakeup is not one packet
		for took := 0; took < packet && len(msg) < size; {
			n, err := s.Read(fd, buf[:min(chunk, packet-took, size-len(msg))])
			if err == sys.EAGAIN {
				return
			}
			if err != nil {
				w.Stop()
				done(msg, err)
				return
			}
			took += n
			msg = append(msg, buf[:n]...)
		}
		if len(msg) == size {
			w.Stop()
			done(msg, nil)
		}
	})
	if err != nil {
		done(nil, err)
	}
}
