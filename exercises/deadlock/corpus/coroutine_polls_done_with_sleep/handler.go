// Corpus: pass
// Approach: A coroutine polls Done but parks for 1 ms with co.Sleep between polls, so every poll is a new short callback and the loop keeps running.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

// Greet polls politely: each check gives the loop back before the next.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	l.Async("greet "+user, func(co *engine.Co) {
		for !f.Done() {
			co.Sleep(time.Millisecond)
		}
		name, err := f.Value()
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
