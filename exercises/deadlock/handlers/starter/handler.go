package handler

import "github.com/asynclab/asynclab/engine"

// Greet answers one request: it looks up user's full name in the directory
// and responds with "hello, <full name>".
//
// This starter reads like blocking code, and it blocks: Wait holds the
// loop's only thread until the lookup resolves, but only the loop can
// resolve it.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	name, err := lookup(user).Wait()
	if err != nil {
		respond("error: " + err.Error())
		return
	}
	respond("hello, " + name)
}
