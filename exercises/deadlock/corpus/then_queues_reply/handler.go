// Corpus: pass
// Approach: The Then continuation only builds the greeting and queues a separate loop callback with l.Queue that calls respond.
package handler

import "github.com/asynclab/asynclab/engine"

func greetingFor(name string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return "hello, " + name
}

// Greet answers in a callback of its own, queued by the continuation.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	f.Then(func(name string, err error) {
		g := greetingFor(name, err)
		l.Queue("reply "+user, func() { respond(g) })
	})
}
