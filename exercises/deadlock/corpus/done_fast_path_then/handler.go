// Corpus: pass
// Approach: Checks Done once: if the lookup already resolved it answers from Value at once, otherwise it attaches a Then and returns.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet has a fast path for an already-resolved lookup and never polls.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	answer := func(name string, err error) {
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	}
	f := lookup(user)
	if f.Done() { // asked once, not in a loop
		answer(f.Value())
		return
	}
	f.Then(answer)
}
