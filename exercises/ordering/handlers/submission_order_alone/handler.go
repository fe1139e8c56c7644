package handler

import "github.com/asynclab/asynclab/engine"

// WritePair submits the first write, and the second only in the loop's next
// turn, in a later io_uring_enter: the kernel has the first by then, so it
// takes the first to come first. It does not wait for the first's
// completion.
func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func()) {
	left := 2
	finished := func(n int, err error) {
		if left--; left == 0 {
			done()
		}
	}
	l.Write(fd, first, off).Order(engine.Async).Then(finished)
	l.Queue("second write", func() {
		l.Write(fd, second, off).Then(finished)
	})
}
