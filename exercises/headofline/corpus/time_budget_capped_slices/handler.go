// Corpus: pass
// Approach: Each queued slice does one unit at a time until 3 ms of loop time have passed or sixteen units are done, whichever comes first, then queues the next slice.
package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
)

const (
	budget   = 3 * time.Millisecond
	maxUnits = 16 // hard cap, so a slow machine cannot stretch a slice past the rule
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	name := fmt.Sprintf("req %d: budgeted slice", id)
	left := units
	var slice func()
	slice = func() {
		start := l.Now()
		var r uint64
		for n := 0; left > 0 && n < maxUnits; n++ {
			r = work(1)
			left--
			if l.Now()-start >= budget {
				break
			}
		}
		if left == 0 {
			respond(r)
			return
		}
		l.Queue(name, slice)
	}
	l.Queue(name, slice)
}
