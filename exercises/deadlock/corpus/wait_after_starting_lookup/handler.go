// Corpus: fail no-deadlock answers concurrent
// Mistake: Keeps the blocking Wait from the starter, only split into two lines, so the first request's callback waits on the loop for a future only the loop can resolve.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet starts the lookup, then blocks on it.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	name, err := f.Wait()
	if err != nil {
		respond("error: " + err.Error())
		return
	}
	respond("hello, " + name)
}
