// Corpus: pass
// Approach: Runs each request as its own l.Async coroutine that awaits the lookup with engine.Await, which parks the coroutine and gives the loop back.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet starts one coroutine per request.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.Async("greet "+user, func(co *engine.Co) {
		name, err := engine.Await(co, lookup(user))
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
