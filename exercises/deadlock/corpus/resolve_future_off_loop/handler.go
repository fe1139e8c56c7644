// Corpus: fail loop-resolves
// Mistake: Waits for the lookup on a goroutine and resolves its own greeting future from that goroutine, instead of posting the resolution back to the loop.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers from a continuation on a future it resolves off the loop.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	greeting := engine.NewFuture[string](l, "greeting "+user)
	greeting.Then(func(g string, _ error) { respond(g) })
	go func() {
		name, err := f.Wait()
		if err != nil {
			greeting.Resolve("error: "+err.Error(), nil)
			return
		}
		greeting.Resolve("hello, "+name, nil)
	}()
}
