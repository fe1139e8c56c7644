// Corpus: pass
// Approach: A coroutine awaits the lookup while a generous 2 s loop timer stands by as a fallback; whichever comes first answers once, and the timer is stopped on success.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

const lookupTimeout = 2 * time.Second

// Greet never waits forever for the directory.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	answered := false
	timer := l.AfterFunc("timeout "+user, lookupTimeout, func() {
		if !answered {
			answered = true
			respond("error: directory lookup timed out")
		}
	})
	l.Async("greet "+user, func(co *engine.Co) {
		name, err := engine.Await(co, lookup(user))
		if answered {
			return // the timeout already answered
		}
		answered = true
		timer.Stop()
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
