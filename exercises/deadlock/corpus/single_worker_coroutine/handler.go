// Corpus: fail concurrent
// Mistake: Puts requests on a queue drained by one worker coroutine that awaits each lookup before starting the next, so only one lookup is ever in flight.
package handler

import "github.com/asynclab/asynclab/engine"

type request struct {
	user    string
	respond func(string)
}

type worker struct {
	queue   []request
	running bool
}

var workers = map[*engine.Loop]*worker{}

// Greet enqueues the request and makes sure the worker is running.
func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string)) {
	w := workers[l]
	if w == nil {
		w = &worker{}
		workers[l] = w
	}
	w.queue = append(w.queue, request{user, respond})
	if w.running {
		return
	}
	w.running = true
	l.Async("worker", func(co *engine.Co) {
		for len(w.queue) > 0 {
			r := w.queue[0]
			w.queue = w.queue[1:]
			name, err := engine.Await(co, lookup(r.user))
			if err != nil {
				r.respond("error: " + err.Error())
				continue
			}
			r.respond("hello, " + name)
		}
		w.running = false
	})
}
