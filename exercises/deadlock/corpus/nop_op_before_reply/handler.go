// Corpus: pass
// Approach: After the lookup's continuation, it submits a no-op I/O operation (l.Nop) and answers from the op's OnDone completion callback, on the loop.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers from an I/O completion, which works on both backends.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	lookup(user).Then(func(name string, err error) {
		greeting := "hello, " + name
		if err != nil {
			greeting = "error: " + err.Error()
		}
		l.Nop().OnDone(func(*engine.Op) {
			respond(greeting)
		})
	})
}
