package handler

import "github.com/asynclab/asynclab/engine"

// WritePair queues both writes as plain writes, one after the other, and
// counts on the kernel running them in the order they were queued.
func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func()) {
	left := 2
	finished := func(n int, err error) {
		if left--; left == 0 {
			done()
		}
	}
	l.Write(fd, first, off).Then(finished)
	l.Write(fd, second, off).Then(finished)
}
