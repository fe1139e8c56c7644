// Corpus: pass
// Approach: A coroutine awaits the lookup and only records the greeting; a Then on the coroutine's own done future sends the answer.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet splits fetching from answering: the coroutine computes, its
// completion future answers.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	var greeting string
	done := l.Async("fetch "+user, func(co *engine.Co) {
		name, err := engine.Await(co, lookup(user))
		if err != nil {
			greeting = "error: " + err.Error()
			return
		}
		greeting = "hello, " + name
	})
	done.Then(func(struct{}, error) {
		respond(greeting)
	})
}
