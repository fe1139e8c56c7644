package handler

import "github.com/asynclab/asynclab/engine"

// Greet avoids Wait by polling Done until the lookup has resolved. Nothing
// else runs while it polls, so Done can never become true.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	for !f.Done() { // wrong: a busy wait on the loop's thread
	}
	name, err := f.Value()
	if err != nil {
		respond("error: " + err.Error())
		return
	}
	respond("hello, " + name)
}
