// Corpus: fail answers
// Mistake: Stores the name in a variable from the Then continuation but calls respond right after attaching it, before the lookup has resolved, so every greeting is "hello, " with an empty name.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet reads the name before it has arrived.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	var name string
	lookup(user).Then(func(n string, err error) {
		name = n
	})
	respond("hello, " + name)
}
