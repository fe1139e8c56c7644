// Corpus: pass
// Approach: Starts the lookup and attaches a Then continuation that responds, so Greet returns at once and the loop stays free.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers one request without ever blocking the loop.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	lookup(user).Then(func(name string, err error) {
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
