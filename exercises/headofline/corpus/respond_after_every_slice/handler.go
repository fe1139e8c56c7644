// Corpus: fail responses
// Mistake: It slices the work correctly but calls respond after every slice with the result so far, so each large request is answered several times and first with a partial result.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		for left := units; left > 0; left -= 10 {
			respond(work(min(10, left)))
			co.Yield()
		}
	})
}
