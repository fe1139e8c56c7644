// Corpus: fail answers
// Mistake: Does the lookup correctly but greets with the user id it was given instead of the full name the lookup resolved with.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet awaits the name, then uses the wrong variable.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.Async("greet "+user, func(co *engine.Co) {
		_, err := engine.Await(co, lookup(user))
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + user)
	})
}
