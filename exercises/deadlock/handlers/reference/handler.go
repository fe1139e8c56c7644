package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers one request: it looks up user's full name in the directory
// and responds with "hello, <full name>".
//
// Each request gets a coroutine of its own. Await reads like Wait, but it
// parks the coroutine and gives the loop back, so the loop can serve the
// other requests and read the directory's answer. When the lookup
// resolves, the loop runs the rest of the coroutine as a new callback.
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
