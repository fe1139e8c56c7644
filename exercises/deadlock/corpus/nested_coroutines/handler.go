// Corpus: pass
// Approach: An outer coroutine awaits the done future of an inner fetch coroutine (which awaits the lookup) and then yields once before answering.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet nests coroutines: await works on any loop future, including the
// one Async returns.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.Async("greet "+user, func(co *engine.Co) {
		var name string
		var lerr error
		fetch := co.Loop().Async("fetch "+user, func(inner *engine.Co) {
			name, lerr = engine.Await(inner, lookup(user))
		})
		if _, err := engine.Await(co, fetch); err != nil {
			lerr = err
		}
		co.Yield()
		if lerr != nil {
			respond("error: " + lerr.Error())
			return
		}
		respond("hello, " + name)
	})
}
