// Corpus: fail no-head-of-line
// Mistake: It slices only while other requests are outstanding and finishes the rest in one go when it looks alone, forgetting that requests keep arriving meanwhile, so the giant (and the tail of the burst) still blocks the small requests that come in behind it.
package handler

import (
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine"
)

var (
	mu          sync.Mutex
	outstanding = map[*engine.Loop]int{}
)

func others(l *engine.Loop) int {
	mu.Lock()
	defer mu.Unlock()
	return outstanding[l] - 1
}

func add(l *engine.Loop, d int) {
	mu.Lock()
	outstanding[l] += d
	mu.Unlock()
}

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	add(l, 1)
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		var r uint64
		left := units
		for left > 0 {
			if others(l) == 0 {
				// Nobody is waiting: no need to give the loop back.
				r = work(left)
				break
			}
			n := min(10, left)
			r = work(n)
			left -= n
			if left > 0 {
				co.Yield()
			}
		}
		add(l, -1)
		respond(r)
	})
}
