// Corpus: pass
// Approach: A coroutine gives the loop back between ten-unit slices by awaiting the completion of a NOP operation, so each resume comes back through the backend (a real CQE on io_uring).
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		for left := units; left > 0; {
			n := min(10, left)
			r = work(n)
			left -= n
			if left > 0 {
				if _, err := engine.Await(co, l.Nop().Future()); err != nil {
					// The NOP failed (the loop is closing); fall back to a plain yield.
					co.Yield()
				}
			}
		}
		respond(r)
	})
}
