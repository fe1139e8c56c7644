package handler

import "github.com/asynclab/asynclab/engine"

// WritePair drains both writes: each starts only once every op queued
// before it has completed. The bytes come out right, but every write now
// waits for everything else in flight on the ring.
func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func()) {
	l.Write(fd, first, off).Order(engine.Async | engine.Drain)
	l.Write(fd, second, off).Order(engine.Drain).Then(func(n int, err error) { done() })
}
