// Corpus: fail no-deadlock answers concurrent
// Mistake: Replaces Wait with a busy loop on f.Done() inside the callback, which can never see the future change because the loop is the spinning thread.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet spins until the lookup is done.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	for !f.Done() {
	}
	name, err := f.Value()
	if err != nil {
		respond("error: " + err.Error())
		return
	}
	respond("hello, " + name)
}
