// Corpus: fail no-head-of-line
// Mistake: It splits the work into ten-unit slices but each slice calls the next one directly instead of through l.Queue, so all the slices still run inside the delivering callback.
package handler

import "github.com/asynclab/asynclab/engine"

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	var slice func(left int)
	slice = func(left int) {
		n := min(10, left)
		r := work(n)
		if left-n == 0 {
			respond(r)
			return
		}
		slice(left - n) // meant to give the loop back here
	}
	slice(units)
}
