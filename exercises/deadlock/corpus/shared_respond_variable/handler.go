// Corpus: fail answers
// Mistake: Keeps respond in a package-level variable that the next request overwrites, so every continuation answers the most recent request instead of its own.
package handler

import "github.com/asynclab/asynclab/engine"

var reply func(string)

// Greet remembers "the" respond function for later.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	reply = respond
	lookup(user).Then(func(name string, err error) {
		if err != nil {
			reply("error: " + err.Error())
			return
		}
		reply("hello, " + name)
	})
}
