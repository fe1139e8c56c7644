// Corpus: pass
// Approach: Schedules the whole request on a zero-delay loop timer with l.AfterFunc, and inside it awaits the lookup in a coroutine.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet hands the request to a timer callback, which starts a coroutine.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.AfterFunc("greet "+user+" soon", 0, func() {
		l.Async("greet "+user, func(co *engine.Co) {
			f := lookup(user)
			name, err := engine.Await(co, f)
			if err != nil {
				respond("error: " + err.Error())
				return
			}
			respond("hello, " + name)
		})
	})
}
