// Corpus: pass
// Approach: A waiter goroutine blocks on the lookup off the loop and passes the result over a channel to a second goroutine, which posts the answer back to the loop.
package handler

import "github.com/asynclab/asynclab/engine"

type result struct {
	name string
	err  error
}

// Greet keeps all blocking off the loop and all answering on it.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	ch := make(chan result, 1)
	go func() {
		name, err := f.Wait()
		ch <- result{name, err}
	}()
	go func() {
		r := <-ch
		l.Post("reply "+user, func() {
			if r.err != nil {
				respond("error: " + r.err.Error())
				return
			}
			respond("hello, " + r.name)
		})
	}()
}
