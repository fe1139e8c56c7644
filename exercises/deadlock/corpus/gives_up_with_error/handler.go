// Corpus: fail no-deadlock answers concurrent loop-free loop-resolves
// Mistake: Gives up at once: answers every request with an error without ever asking the directory, so it must earn nothing for the work it skipped.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet refuses every request.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	respond("error: directory lookups are not supported")
}
