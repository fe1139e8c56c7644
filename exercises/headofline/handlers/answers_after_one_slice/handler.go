package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

// slice is how many units of work one callback does before it gives the
// loop back: about 5 ms.
const slice = 5

// Serve yields between slices as it should, but answers with the first
// slice's result and stops there: the loop is never blocked, and the
// answer is wrong for every request of more than one slice.
func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		respond(work(min(slice, units)))
	})
}
