// Corpus: fail responses
// Mistake: It runs units/10 slices of ten units and forgets the remainder, so requests whose size is not a multiple of ten are answered before all their work is done (and those under ten units get no work at all).
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		for i := 0; i < units/10; i++ {
			r = work(10)
			co.Yield()
		}
		respond(r)
	})
}
