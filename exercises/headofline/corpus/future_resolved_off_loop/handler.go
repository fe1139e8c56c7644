// Corpus: fail on-loop
// Mistake: It registers respond on a loop-owned future with Then, then resolves that future directly from the worker goroutine instead of posting the Resolve back to the loop.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	f := engine.NewFuture[uint64](l, fmt.Sprintf("req %d result", id))
	f.Then(func(r uint64, err error) { respond(r) })
	go func() {
		f.Resolve(work(units), nil)
	}()
}
