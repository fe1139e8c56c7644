// Corpus: pass
// Approach: Unusual but allowed: instead of a writability wait it calls connect again from a short re-armed timer callback (EALREADY: still going, EISCONN: connected, anything else: the error), giving the loop back between tries and stopping at the deadline.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const retryEvery = 5 * time.Millisecond

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	end := l.Now() + deadline

	var try func()
	try = func() {
		switch err := s.Connect(fd, addr); err {
		case nil, sys.EISCONN:
			done(fd, nil)
		case sys.EINPROGRESS, sys.EALREADY:
			left := end - l.Now()
			if left <= 0 {
				s.Close(fd)
				done(-1, sys.ETIMEDOUT)
				return
			}
			l.AfterFunc("connect again", min(left, retryEvery), try)
		default:
			s.Close(fd)
			done(-1, err)
		}
	}
	try()
}
