// Corpus: fail loop-resolves
// Mistake: Uses a correct Then continuation but calls respond in a new goroutine "so it does not hold the loop", which answers the request off the loop.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers asynchronously, one goroutine too far.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	lookup(user).Then(func(name string, err error) {
		if err != nil {
			go respond("error: " + err.Error())
			return
		}
		go respond("hello, " + name)
	})
}
