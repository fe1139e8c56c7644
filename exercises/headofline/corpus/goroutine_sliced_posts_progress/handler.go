// Corpus: pass
// Approach: A goroutine does the work in ten-unit slices, posting a progress mark to the loop after each slice, and posts the final result back for respond.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	go func() {
		var r uint64
		done := 0
		for done < units {
			n := min(10, units-done)
			r = work(n)
			done += n
			msg := fmt.Sprintf("req %d: %d/%d units", id, done, units)
			// Mark belongs to the loop too, so it is posted like the result.
			l.Post("progress", func() { l.Mark(msg) })
		}
		l.Post(fmt.Sprintf("req %d done", id), func() { respond(r) })
	}()
}
