// Corpus: fail concurrent
// Mistake: Makes each request's coroutine await the previous request before starting its own lookup (to keep answers in arrival order), so lookups run one at a time.
package handler

import "github.com/asynclab/asynclab/engine"

// last is the previous request's coroutine, per loop.
var last = map[*engine.Loop]*engine.Future[struct{}]{}

// Greet serves requests in order, one after the other.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	prev := last[l]
	last[l] = l.Async("greet "+user, func(co *engine.Co) {
		if prev != nil {
			engine.Await(co, prev) // wait our turn
		}
		name, err := engine.Await(co, lookup(user))
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
