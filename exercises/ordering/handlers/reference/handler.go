package handler

import "github.com/asynclab/asynclab/engine"

// WritePair writes first and then second at offset off of the file fd, and
// calls done once both writes have completed.
//
// A link orders the two: the kernel starts the second write only once the
// first has completed, and both go in with one io_uring_enter. Nothing else
// on the ring waits for them.
func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func()) {
	l.Write(fd, first, off).Order(engine.Async | engine.Link)
	l.Write(fd, second, off).Then(func(n int, err error) { done() })
}
