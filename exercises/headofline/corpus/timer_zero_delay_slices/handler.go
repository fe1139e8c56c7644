// Corpus: pass
// Approach: Each slice of five units schedules the next one with a zero-delay AfterFunc timer, so the loop polls and runs other callbacks between slices.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	const slice = 5
	name := fmt.Sprintf("req %d: timer slice", id)
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
		l.AfterFunc(name, 0, step)
	}
	l.AfterFunc(name, 0, step)
}
