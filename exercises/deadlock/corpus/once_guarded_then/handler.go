// Corpus: pass
// Approach: A Then continuation guarded by a per-request answered flag, so respond can never run twice even if the continuation were delivered again.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
)

// Greet is defensive: one answer per request, no matter what.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	answered := false
	reply := func(g string) {
		if answered {
			l.Mark(fmt.Sprintf("dropped a second answer for %s", user))
			return
		}
		answered = true
		respond(g)
	}
	f := lookup(user)
	if f == nil {
		reply("error: lookup returned no future")
		return
	}
	f.Then(func(name string, err error) {
		switch {
		case err != nil:
			reply("error: " + err.Error())
		default:
			reply("hello, " + name)
		}
	})
}
