// Package deadlock is the exercise about blocking on a future inside a
// callback: Wait on the loop's own thread deadlocks, and continuations or
// async/await are the cure.
package deadlock

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynclab/asynclab/exercises/deadlock/wire"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

// longHandler is how long one callback may hold the loop: far more than a
// loaded machine adds to a quick callback, far less than a blocked one
// takes.
const longHandler = 100 * time.Millisecond

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	return &exercises.Exercise{
		Slug:         "deadlock",
		Title:        "Deadlock from blocking in a callback, and async/await as the cure",
		Topic:        "The Devil in the Details: blocking on a future inside a callback; async/await",
		Difficulty:   "core",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Greet",
		Signature:    "func Greet(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string))",
		Child:        "github.com/asynclab/asynclab/exercises/deadlock/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "wait_in_callback", Mistake: "waits for the lookup in a callback of its own",
				Source: exercises.HandlerSource(files, "wait_in_callback"), Fails: []string{"no-deadlock", "answers", "concurrent"}},
			{Name: "spin_on_done", Mistake: "polls Done in a loop inside the callback",
				Source: exercises.HandlerSource(files, "spin_on_done"), Fails: []string{"no-deadlock", "answers", "concurrent"}},
			{Name: "resolve_off_loop", Mistake: "resolves its own future from another goroutine",
				Source: exercises.HandlerSource(files, "resolve_off_loop"), Fails: []string{"loop-resolves"}},
			{Name: "one_at_a_time", Mistake: "awaits every lookup in one coroutine, one request after another",
				Source: exercises.HandlerSource(files, "one_at_a_time"), Fails: []string{"concurrent"}},
			{Name: "sleep_on_loop", Mistake: "sleeps on the loop to give the lookup time",
				Source: exercises.HandlerSource(files, "sleep_on_loop"), Fails: []string{"loop-free"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "burst", Title: "four requests arrive together; the directory answers in 10 to 40 ms",
				Params: map[string]string{"users": "ada,grace,linus,ken", "per-wave": "4",
					"delays": "40ms,10ms,30ms,20ms", "overlap": "4"}},
			{Name: "staggered", Title: "six requests arrive 15 ms apart, one user twice; each lookup takes 30 ms",
				Params: map[string]string{"users": "ada,grace,barbara,ada,edsger,ken", "per-wave": "1",
					"spacing": "15ms", "delays": "30ms", "overlap": "2"}},
		},
		Checks: checks,
		Lints:  trace.LintOptions{LongHandler: longHandler},
		Judged: []trace.LintCode{trace.LintLongHandler, trace.LintDeadlock, trace.LintOffLoop},
		// loop-free holds a callback to 100 ms. Measured, the time its
		// thread waited for a CPU is left out: a correct coroutine's first
		// step once lasted 144 ms in a full CI run, the machine's time,
		// not the handler's.
		MeasureHandlers: true,
	}
}

var checks = []exercises.Check{
	{ID: "no-deadlock", Title: "No callback blocks on a future: the run never deadlocks", Points: 30,
		Hint: "Wait, or a loop on Done, holds the loop's only thread, and only the loop can resolve the lookup. " +
			"Chain the rest of the request with f.Then, or run it in l.Async and engine.Await the lookup.",
		Reached: lookedUp,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintDeadlock); found {
				return o
			}
			if strings.HasPrefix(r.Error, "deadlock") {
				return exercises.Fail(r, nil, "%s", r.Error)
			}
			return exercises.Pass()
		})},
	{ID: "answers", Title: "Every request gets the right greeting, exactly once", Points: 25,
		Hint: "Respond once per request, with \"hello, \" and the name the lookup resolved with.",
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			n := len(strings.Split(r.Scenario.Params["users"], ","))
			answered := int(r.Values[wire.ValueAnswered])
			switch want := wire.Summary(n, n); {
			case r.Error != "":
				return exercises.Fail(r, nil, "the run ended after %d of %d requests were answered: %s", answered, n, r.Error)
			case r.Answer == "" && r.TraceCut():
				return exercises.NotEvaluated(r, "%d of %d requests were answered when %s", answered, n, r.Incomplete())
			case r.Answer == "":
				return exercises.Fail(r, nil, "%d of %d requests were answered (%s)", answered, n, r.Never)
			case r.Answer != want:
				return exercises.Fail(r, r.AnswerEvent, "%s", r.Answer)
			case r.Values[wire.ValueTwice] > 0:
				return exercises.Fail(r, r.AnswerEvent, "respond was called %g more time(s) for a request already answered", r.Values[wire.ValueTwice])
			}
			return exercises.Pass()
		})},
	{ID: "concurrent", Title: "Requests are served concurrently: lookups of different requests are in flight at once", Points: 20,
		Hint: "Start each request's lookup when the request arrives, and let the loop run while it is pending: " +
			"one coroutine (or one Then chain) per request, not one for all of them.",
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			need, _ := strconv.Atoi(r.Scenario.Params["overlap"])
			peak := int(r.Values[wire.ValueMaxInFlight])
			if peak >= need {
				return exercises.Pass()
			}
			if peak == 0 {
				return exercises.Fail(r, nil, "no lookup was ever started")
			}
			why := fmt.Sprintf("each request arrived while the lookup before it was still pending, so %d could have been", need)
			if r.Scenario.Params["per-wave"] != "1" {
				why = fmt.Sprintf("the %d requests arrived together, so all %d lookups could have been", need, need)
			}
			return exercises.Fail(r, firstLookupEnd(r), "at most %d lookup(s) were in flight at a time; %s", peak, why)
		})},
	{ID: "loop-free", Title: fmt.Sprintf("No callback holds the loop for more than %v", longHandler), Points: 15,
		Hint: "A callback that sleeps or computes holds every other request, and the lookup it waits for " +
			"cannot make progress meanwhile. Return to the loop and let it call you back.",
		Reached: lookedUp,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if strings.Contains(r.Error, "held the loop") {
				return exercises.Fail(r, nil, "a callback held the loop until the harness gave up: %s", r.Error)
			}
			if o, found := exercises.FailOnLongHandler(r); found {
				return o
			}
			return exercises.Pass()
		})},
	{ID: "loop-resolves", Title: "Only the loop resolves futures and answers requests", Points: 10,
		Hint: "A future and respond belong to the loop. Wait on another goroutine if you must, " +
			"but hand the result back with l.Post and resolve or respond there.",
		Reached: lookedUp,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintOffLoop); found {
				return o
			}
			if n := r.Values[wire.ValueOffLoop]; n > 0 {
				return exercises.Fail(r, nil, "respond was called %g time(s) off the loop's thread", n)
			}
			return exercises.Pass()
		})},
}

// lookedUp reaches a check in a run where the handler started a lookup: a
// handler that never asks the directory earns nothing for not deadlocking
// on it.
func lookedUp(r *exercises.Run) string {
	if r.Trace != nil {
		for _, e := range r.Trace.Events {
			if e.Kind == trace.KindFuture && e.Phase == trace.PhaseCreate && strings.HasPrefix(r.Trace.Name(e.Name), "lookup ") {
				return ""
			}
		}
	}
	return "the handler never started a lookup"
}

// firstLookupEnd is where a run's concurrency shows: the first lookup's
// resolution, or its creation if it never resolved.
func firstLookupEnd(r *exercises.Run) *trace.Event {
	if r.Trace == nil {
		return nil
	}
	var created *trace.Event
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Kind != trace.KindFuture || !strings.HasPrefix(r.Trace.Name(e.Name), "lookup ") {
			continue
		}
		switch {
		case e.Phase == trace.PhaseResolve:
			return e
		case e.Phase == trace.PhaseCreate && created == nil:
			created = e
		}
	}
	return created
}
