// Corpus: pass
// Approach: A coroutine counts the units it has asked for, does at most seven per step with a yield after each, and responds through a sync.Once guard that posts to the loop if it ever finds itself off the loop thread.
package handler

import (
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine"
)

const step = 7

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	var once sync.Once
	answer := func(r uint64) {
		once.Do(func() {
			if l.OnLoop() {
				respond(r)
				return
			}
			l.Post(fmt.Sprintf("req %d answer", id), func() { respond(r) })
		})
	}
	if units <= 0 {
		answer(work(0))
		return
	}
	l.Async(fmt.Sprintf("req %d worker", id), func(co *engine.Co) {
		var r uint64
		asked := 0
		for asked < units {
			n := min(step, units-asked)
			r = work(n)
			asked += n
			if asked < units {
				co.Yield()
			}
		}
		answer(r)
	})
}
