// Corpus: fail no-head-of-line
// Mistake: It does the work on a goroutine but then waits for the result on a channel inside the delivering callback, so the loop is held for the whole request exactly as if it had done the work itself.
package handler

import "github.com/asynclab/asynclab/engine"

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	done := make(chan uint64, 1)
	go func() {
		done <- work(units)
	}()
	respond(<-done)
}
