// Corpus: fail loop-free
// Mistake: Sleeps 150 ms on the loop "to give the directory time" before attaching the continuation, holding the loop far longer than 100 ms in every request callback.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

// Greet waits a while before it asks to be called back.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	time.Sleep(150 * time.Millisecond) // the slowest lookup takes 40 ms
	f.Then(func(name string, err error) {
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond("hello, " + name)
	})
}
