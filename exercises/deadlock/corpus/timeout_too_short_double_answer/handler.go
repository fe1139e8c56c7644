// Corpus: fail answers
// Mistake: Adds a 25 ms timeout that answers with an error, shorter than the slow lookups, and never marks the request answered, so slow requests get an error and then a second answer.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

// Greet races the lookup against a timer but lets both answer.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	timer := l.AfterFunc("timeout "+user, 25*time.Millisecond, func() {
		respond("error: lookup timed out")
	})
	f.Then(func(name string, err error) {
		timer.Stop()
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
