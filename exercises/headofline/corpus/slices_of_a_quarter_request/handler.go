// Corpus: fail no-head-of-line
// Mistake: It splits every request into four slices instead of bounding the slice size, so the 150-unit giant is done in slices of about 38 units, nearly twice the 20-unit limit, while small requests wait.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	slice := (units + 3) / 4
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		for left := units; left > 0; left -= slice {
			r = work(min(slice, left))
			co.Yield()
		}
		respond(r)
	})
}
