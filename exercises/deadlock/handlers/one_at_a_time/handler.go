package handler

import "github.com/asynclab/asynclab/engine"

// request is one request waiting for the server.
type request struct {
	user    string
	lookup  func(string) *engine.Future[string]
	respond func(string)
}

var (
	queue   []request
	serving bool
)

// Greet queues the request for a single coroutine that serves requests one
// at a time. Await gives the loop back, so nothing deadlocks, but each
// request waits for every lookup before its own to finish.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	queue = append(queue, request{user, lookup, respond})
	if serving {
		return
	}
	serving = true
	l.Async("serve requests", func(co *engine.Co) {
		for len(queue) > 0 {
			r := queue[0]
			queue = queue[1:]
			name, err := engine.Await(co, r.lookup(r.user)) // wrong: one lookup at a time
			if err != nil {
				r.respond("error: " + err.Error())
				continue
			}
			r.respond("hello, " + name)
		}
		serving = false
	})
}
