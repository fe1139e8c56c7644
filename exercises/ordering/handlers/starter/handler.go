package handler

import "github.com/asynclab/asynclab/engine"

// WritePair writes first and then second at offset off of the file fd, and
// calls done once both writes have completed. The file must end up with
// second's bytes over first's.
//
// This starter queues both writes in one batch. The first carries
// engine.Async, as a write the kernel cannot finish inline would: it goes
// to one of the kernel's io-wq workers. Nothing orders the second after it.
func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func()) {
	left := 2
	finished := func(n int, err error) {
		if left--; left == 0 {
			done()
		}
	}
	l.Write(fd, first, off).Order(engine.Async).Then(finished)
	l.Write(fd, second, off).Then(finished)
}
