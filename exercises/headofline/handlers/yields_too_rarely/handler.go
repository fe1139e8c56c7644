package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

// slice is how many units of work one callback does before it gives the
// loop back: about 40 ms, far too long.
const slice = 40

// Serve handles request id, which carries units of CPU work: it does the
// work by calling work, and calls respond exactly once with the result.
//
// The work runs in a coroutine that yields after every slice, as it should,
// but each slice is so long that every request behind it waits up to 40 ms
// at a time.
func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var result uint64
		for left := units; left > 0; left -= slice {
			result = work(min(slice, left))
			if left > slice {
				co.Yield()
			}
		}
		respond(result)
	})
}
