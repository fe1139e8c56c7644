// Corpus: fail responses
// Mistake: Inside the slice loop it writes r := work(n), which declares a new r that shadows the outer one, so after doing all the work it responds with the outer r, still 0.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		left := units
		for left > 0 {
			n := min(10, left)
			r := work(n)
			left -= n
			if left > 0 {
				co.Yield()
			} else {
				l.Mark(fmt.Sprintf("req %d finished with %d", id, r))
			}
		}
		respond(r)
	})
}
