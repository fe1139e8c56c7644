// Corpus: pass
// Approach: The loop creates a future and registers respond with Then; a goroutine does the work and posts a callback that resolves the future on the loop.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	f := engine.NewFuture[uint64](l, fmt.Sprintf("req %d result", id))
	f.Then(func(r uint64, err error) {
		if err == nil {
			respond(r)
		}
	})
	go func() {
		r := work(units)
		l.Post(fmt.Sprintf("req %d: resolve", id), func() { f.Resolve(r, nil) })
	}()
}
