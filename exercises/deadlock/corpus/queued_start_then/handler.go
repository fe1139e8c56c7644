// Corpus: pass
// Approach: Defers starting the lookup to a callback queued with l.Queue, then answers from a Then continuation, so Greet itself does no I/O at all.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet queues the real work for the next turn of the loop.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	l.Queue("start lookup "+user, func() {
		lookup(user).Then(func(name string, err error) {
			if err != nil {
				respond("error: " + err.Error())
				return
			}
			respond("hello, " + name)
		})
	})
}
