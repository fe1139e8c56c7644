// Corpus: pass
// Approach: Slices are chained through futures: after each ten-unit slice a fresh future is given a Then continuation for the next slice and resolved, so every slice runs as its own callback.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	const slice = 10
	var next func(left int)
	next = func(left int) {
		n := min(slice, left)
		r := work(n)
		left -= n
		if left == 0 {
			respond(r)
			return
		}
		f := engine.NewFuture[int](l, fmt.Sprintf("req %d: %d left", id, left))
		f.Then(func(v int, err error) { next(v) })
		f.Resolve(left, nil)
	}
	l.Queue(fmt.Sprintf("req %d: first slice", id), func() { next(units) })
}
