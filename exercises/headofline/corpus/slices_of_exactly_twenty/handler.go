// Corpus: pass
// Approach: A coroutine spends the whole allowed budget, exactly twenty units per step, and yields between steps (the rule only forbids more than twenty).
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

const budget = 20

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		left := units
		for {
			n := min(budget, left)
			r := work(n)
			left -= n
			if left == 0 {
				respond(r)
				return
			}
			co.Yield()
		}
	})
}
