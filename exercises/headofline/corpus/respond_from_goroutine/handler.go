// Corpus: fail on-loop
// Mistake: It moves the work to a goroutine correctly but calls respond from that goroutine instead of posting the answer back to the loop.
package handler

import "github.com/asynclab/asynclab/engine"

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	go func() {
		respond(work(units))
	}()
}
