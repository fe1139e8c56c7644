// Corpus: pass
// Approach: Uses l.Post from the loop itself to start the lookup in a later callback, and answers in a Then continuation.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet posts to its own loop; Post is safe from any goroutine, the loop
// included.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	if !l.Post("greet "+user, func() {
		f := lookup(user)
		f.Then(func(name string, err error) {
			if err != nil {
				respond("error: " + err.Error())
				return
			}
			respond("hello, " + name)
		})
	}) {
		respond("error: loop closed")
	}
}
