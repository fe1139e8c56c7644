// Corpus: pass
// Approach: A coroutine creates a loop-owned future, hands the work to a goroutine that posts the future's resolution back to the loop, and awaits it before responding.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	l.Async(fmt.Sprintf("req %d", id), func(co *engine.Co) {
		f := engine.NewFuture[uint64](l, fmt.Sprintf("req %d result", id))
		go func() {
			r := work(units)
			// Resolve belongs to the loop: post it back rather than calling it here.
			l.Post(fmt.Sprintf("req %d: resolve", id), func() { f.Resolve(r, nil) })
		}()
		r, err := engine.Await(co, f)
		if err != nil {
			return
		}
		respond(r)
	})
}
