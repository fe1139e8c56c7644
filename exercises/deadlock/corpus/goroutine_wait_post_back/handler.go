// Corpus: pass
// Approach: Starts the lookup on the loop, waits for it on a separate goroutine, and hands the answer back to the loop with l.Post so respond runs on the loop.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet waits off the loop, which is allowed, and answers on the loop.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user) // futures are created on the loop
	go func() {
		name, err := f.Wait() // fine here: this goroutine is not the loop
		greeting := "hello, " + name
		if err != nil {
			greeting = "error: " + err.Error()
		}
		l.Post("answer "+user, func() {
			respond(greeting)
		})
	}()
}
