// Corpus: pass
// Approach: A coroutine does the work ten units at a time and calls co.Yield between slices, responding from the coroutine once nothing is left.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

const slice = 10

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d: sliced", id), func(co *engine.Co) {
		var r uint64
		for left := units; left > 0; {
			n := min(slice, left)
			r = work(n)
			left -= n
			if left > 0 {
				co.Yield()
			}
		}
		respond(r)
	})
}
