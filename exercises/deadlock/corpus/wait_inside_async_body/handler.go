// Corpus: fail no-deadlock answers concurrent
// Mistake: Wraps the request in l.Async but still calls f.Wait() inside the coroutine instead of engine.Await, so the coroutine step blocks the loop's thread and deadlocks.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet thinks being inside a coroutine makes Wait safe.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.Async("greet "+user, func(co *engine.Co) {
		name, err := lookup(user).Wait()
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
