package handler

import "github.com/asynclab/asynclab/engine"

// Greet waits for the lookup on a goroutine of its own, which is allowed,
// and then resolves its own future from that goroutine, which is not: a
// future belongs to its loop, and the result should be posted back.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	f := lookup(user)
	greeting := engine.NewFuture[string](l, "greeting for "+user)
	go func() {
		name, err := f.Wait()
		greeting.Resolve("hello, "+name, err) // wrong: resolved off the loop; use l.Post
	}()
	greeting.Then(func(g string, err error) {
		if err != nil {
			respond("error: " + err.Error())
			return
		}
		respond(g)
	})
}
