// Corpus: pass
// Approach: Maps the lookup future into a new loop-owned greeting future (resolved on the loop inside a Then) and answers from that future's own Then.
package handler

import "github.com/asynclab/asynclab/engine"

// mapFuture returns a future resolved, on the loop, with fn applied to f's
// value.
func mapFuture(l *engine.Loop, name string, f *engine.Future[string], fn func(string, error) string) *engine.Future[string] {
	out := engine.NewFuture[string](l, name)
	f.Then(func(v string, err error) {
		out.Resolve(fn(v, err), nil)
	})
	return out
}

// Greet composes futures instead of writing one big callback.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	greeting := mapFuture(l, "greeting "+user, lookup(user), func(name string, err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return "hello, " + name
	})
	greeting.Then(func(g string, _ error) { respond(g) })
}
