// Corpus: fail responses no-head-of-line on-loop
// Mistake: It gives up at once and answers every request with 0 without calling work, so no answer carries the result of the request's work (and nothing is earned for the blocking it avoided by not working).
package handler

import "github.com/asynclab/asynclab/engine"

func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	respond(0)
}
