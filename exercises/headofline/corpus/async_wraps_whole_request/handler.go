// Corpus: fail no-head-of-line
// Mistake: It moves the whole work(units) call into l.Async believing a coroutine runs in the background, but never yields, so the coroutine's single step still holds the loop for all 80 or 150 units.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d async", id), func(co *engine.Co) {
		r := work(units)
		co.Yield()
		respond(r)
	})
}
