// Corpus: pass
// Approach: Requests of at most twelve units are answered inside the delivering callback, and larger ones run in a coroutine that yields after every twelve units.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

// small is both the inline threshold and the slice size: well under the
// 20-unit budget one callback may spend while others wait.
const small = 12

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	if units <= small {
		respond(work(units))
		return
	}
	l.Async(fmt.Sprintf("req %d: large", id), func(co *engine.Co) {
		var r uint64
		for left := units; left > 0; left -= small {
			r = work(min(small, left))
			if left > small {
				co.Yield()
			}
		}
		respond(r)
	})
}
