// Corpus: fail responses no-head-of-line on-loop
// Mistake: The handler returns at once without doing any work or ever calling respond, so no request is answered (and it must earn nothing for checks it only passes because it did nothing).
package handler

import "github.com/asynclab/asynclab/engine"

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	// TODO: split the work into slices.
}
