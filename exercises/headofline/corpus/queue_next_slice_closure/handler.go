// Corpus: pass
// Approach: The delivering callback does a first slice of at most eight units and each slice queues the next one with l.Queue, so the loop gets a turn between slices.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	const slice = 8
	name := fmt.Sprintf("req %d: next slice", id)
	left := units
	var step func()
	step = func() {
		n := min(slice, left)
		r := work(n)
		left -= n
		if left == 0 {
			respond(r)
			return
		}
		l.Queue(name, step)
	}
	step()
}
