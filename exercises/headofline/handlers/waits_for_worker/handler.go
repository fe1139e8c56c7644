package handler

import "github.com/asynclab/asynclab/engine"

// Serve handles request id, which carries units of CPU work: it does the
// work by calling work, and calls respond exactly once with the result.
//
// The work runs on a goroutine, but the callback waits for it to finish:
// the loop's thread is held just as long as if it had done the work itself.
func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	done := make(chan uint64)
	go func() { done <- work(units) }()
	respond(<-done)
}
