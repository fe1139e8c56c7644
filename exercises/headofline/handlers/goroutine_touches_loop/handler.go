package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

// Serve handles request id, which carries units of CPU work: it does the
// work by calling work, and calls respond exactly once with the result.
//
// The work runs on a goroutine of its own, which keeps the loop free. But
// the goroutine resolves the loop's future itself: the future belongs to
// the loop, and touching it from another thread is a data race that the
// engine catches and reports.
func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	result := engine.NewFuture[uint64](l, fmt.Sprintf("req %d result", id))
	result.Then(func(v uint64, _ error) { respond(v) })
	go func() {
		result.Resolve(work(units), nil)
	}()
}
