// Corpus: pass
// Approach: The delivering callback queues every ten-unit slice of the request at once with l.Queue, the last one responding, so each callback does at most ten units.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	const slice = 10
	for done := 0; done < units; done += slice {
		n := min(slice, units-done)
		last := done+n == units
		l.Queue(fmt.Sprintf("req %d: units %d-%d", id, done+1, done+n), func() {
			r := work(n)
			if last {
				respond(r)
			}
		})
	}
}
