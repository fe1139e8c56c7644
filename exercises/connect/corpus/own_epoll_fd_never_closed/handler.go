// Corpus: fail no-fd-leak
// Mistake: Uses its own one-shot epoll instance correctly (watched with OnReadable, drained with a zero-timeout EpollWait) but only ever closes the socket, never the epoll descriptor it created.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
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
	epfd, err := s.EpollCreate1(sys.EPOLL_CLOEXEC)
	if err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}
	ev := sys.EpollEvent{Events: sys.EPOLLOUT | sys.EPOLLONESHOT, Fd: int32(fd)}
	if err := s.EpollCtl(epfd, sys.EPOLL_CTL_ADD, fd, &ev); err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}

	var w *engine.Watch
	var t *engine.Timer
	finished := false
	events := make([]sys.EpollEvent, 1)
	w, err = l.OnReadable(epfd, "own epoll ready", func(uint32) {
		if finished {
			return
		}
		n, err := s.EpollWait(epfd, events, 0)
		if err == nil && n == 0 {
			return
		}
		finished = true
		w.Stop()
		t.Stop()
		if err == nil {
			var soerr int
			soerr, err = s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
			if err == nil && soerr != 0 {
				err = sys.Errno(soerr)
			}
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
	t = l.AfterFunc("deadline", deadline, func() {
		if finished {
			return
		}
		finished = true
		w.Stop()
		s.Close(fd)
		done(-1, sys.ETIMEDOUT)
	})
}
