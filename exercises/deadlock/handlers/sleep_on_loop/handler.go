package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

// Greet gives the lookup time to finish by sleeping before it asks for the
// result. The loop sleeps too, so the lookup is no further along when the
// sleep ends, and every other request waited for nothing.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	time.Sleep(150 * time.Millisecond) // wrong: sleeps on the loop's thread
	f.Then(func(name string, err error) {
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
