// Corpus: fail never-blocked
// Mistake: Makes its own epoll instance as allowed, but then calls EpollWait with the deadline as its timeout right in the handler, the classic C loop, which blocks the event loop until the handshake ends or the deadline passes.
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
	defer s.Close(epfd)
	ev := sys.EpollEvent{Events: sys.EPOLLOUT | sys.EPOLLONESHOT, Fd: int32(fd)}
	if err := s.EpollCtl(epfd, sys.EPOLL_CTL_ADD, fd, &ev); err != nil {
		s.Close(fd)
		done(-1, err)
		return
	}

	events := make([]sys.EpollEvent, 1)
	start := time.Now()
	for {
		left := deadline - time.Since(start)
		if left <= 0 {
			s.Close(fd)
			done(-1, sys.ETIMEDOUT)
			return
		}
		n, err := s.EpollWait(epfd, events, int(left/time.Millisecond)+1)
		if err == sys.EINTR {
			continue
		}
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		if n == 0 {
			continue // timed out: the check at the top reports it
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
		return
	}
}
