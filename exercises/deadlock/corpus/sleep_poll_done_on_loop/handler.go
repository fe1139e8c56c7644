// Corpus: fail no-deadlock answers concurrent loop-free
// Mistake: Polls f.Done() with time.Sleep between polls inside the callback, believing the sleep lets the directory answer, but the loop sleeps too and the answer stays unread.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
)

// Greet sleeps on the loop until the lookup is done.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	for !f.Done() {
		time.Sleep(time.Millisecond)
	}
	name, err := f.Value()
	if err != nil {
		respond("error: " + err.Error())
		return
	}
	respond("hello, " + name)
}
