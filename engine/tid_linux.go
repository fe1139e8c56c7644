package engine

import "golang.org/x/sys/unix"

func gettid() int { return unix.Gettid() }

const (
	epollIn  = unix.EPOLLIN
	epollOut = unix.EPOLLOUT
)
