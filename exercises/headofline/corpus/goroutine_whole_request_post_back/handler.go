// Corpus: pass
// Approach: Each request's whole work runs on its own goroutine and only the result is posted back to the loop, where respond is called.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	name := fmt.Sprintf("req %d done", id)
	go func() {
		r := work(units)
		l.Post(name, func() { respond(r) })
	}()
}
