// Corpus: fail no-deadlock answers concurrent loop-free loop-resolves
// Mistake: Makes no attempt at all: it never starts a lookup and never answers, so it must earn nothing, not even the checks that only hold because nothing ran.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet is not written yet.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	// TODO
}
