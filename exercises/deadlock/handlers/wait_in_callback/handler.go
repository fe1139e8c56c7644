package handler

import "github.com/asynclab/asynclab/engine"

// Greet starts the lookup at once, then waits for it in a callback of its
// own. That callback runs on the loop's thread too, so the Wait still
// blocks the only thread that could resolve the lookup.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	l.Queue("greet "+user, func() {
		name, err := f.Wait() // wrong: every callback runs on the loop's thread
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
