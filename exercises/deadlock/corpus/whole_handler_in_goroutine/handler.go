// Corpus: fail no-deadlock answers concurrent loop-free loop-resolves
// Mistake: Moves the whole blocking starter into a goroutine, so lookup (which creates a loop-owned future) runs off the loop, panics there and kills the run before anything is answered, so it must earn nothing.
package handler

import "github.com/asynclab/asynclab/engine"

// Greet does everything off the loop and posts only the answer back.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	go func() {
		name, err := lookup(user).Wait()
		l.Post("reply "+user, func() {
			if err != nil {
				respond("error: " + err.Error())
				return
			}
			respond("hello, " + name)
		})
	}()
}
