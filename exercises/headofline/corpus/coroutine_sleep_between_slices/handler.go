// Corpus: pass
// Approach: A coroutine does six units at a time and parks on a short co.Sleep between slices, so timers and new requests get the loop in the gaps.
package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		left := units
		for left > 0 {
			n := min(6, left)
			r = work(n)
			left -= n
			if left > 0 {
				co.Sleep(100 * time.Microsecond)
			}
		}
		respond(r)
	})
}
