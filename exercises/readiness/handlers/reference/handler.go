package handler

import (
	"errors"
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Receive reads the size-byte message that arrives on fd and calls done
// once with it. On epoll it waits for readiness and reads through a buffer
// of chunk bytes until EAGAIN, every time; on io_uring it asks the kernel
// for the whole message with one RECV.
func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error)) {
	if l.Backend() == engine.Uring {
		// Completion: hand the kernel the whole buffer. MSG_WAITALL asks it
		// to keep receiving into it until it is full, however many packets
		// that takes, and to complete once.
		msg := make([]byte, size)
		l.Recv(fd, msg, sys.MSG_WAITALL).Then(func(n int, err error) {
			if err == nil && n < size {
				err = fmt.Errorf("the peer closed the connection after %d of %d bytes", n, size)
			}
			done(msg[:max(n, 0)], err)
		})
		return
	}

	// Readiness: epoll says the socket is readable; reading is our job.
	// Read until EAGAIN every time: an edge-triggered epoll reports the
	// socket only when new data arrives, so what we leave is never
	// reported again.
	s := l.Sys()
	msg := make([]byte, 0, size)
	buf := make([]byte, chunk)
	var w *engine.Watch
	finish := func(err error) {
		w.Stop()
		done(msg, err)
	}
	w, err := l.OnReadable(fd, "socket readable", func(uint32) {
		for len(msg) < size {
			n, err := s.Read(fd, buf[:min(chunk, size-len(msg))])
			switch {
			case err == sys.EAGAIN:
				return // drained: the loop calls us when more arrives
			case err != nil:
				finish(err)
				return
			case n == 0:
				finish(errors.New("the peer closed the connection before the whole message"))
				return
			}
			msg = append(msg, buf[:n]...)
		}
		finish(nil)
	})
	if err != nil {
		done(nil, err)
	}
}
