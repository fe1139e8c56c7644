// Corpus: fail loop-resolves
// Mistake: Waits for the lookup on a goroutine, which is allowed, but then calls respond from that goroutine instead of posting the answer back to the loop.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers from the goroutine that waited.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	go func() {
		name, err := f.Wait()
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	}()
}
