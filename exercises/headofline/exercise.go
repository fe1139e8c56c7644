// Package headofline is the head-of-line blocking exercise: requests carry
// CPU work, and a cooperative loop runs nothing else while one callback
// works. The handler must give the loop back between slices of work, or do
// the work on another goroutine and post the result back.
package headofline

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/asynclab/asynclab/exercises/headofline/wire"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/report"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

// maxUnits is the most work, in units, that one callback may do for other
// requests while a request waits. The reference does 5 at a time; the
// starter does 80 and a handler that yields every 40 units does 40.
const maxUnits = 20

// engineLoop is the loop id of the engine's own events in a run's trace.
const engineLoop = 0

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	return &exercises.Exercise{
		Slug:         "headofline",
		Title:        "Head-of-line blocking in a cooperative loop",
		Topic:        "The Devil in the Details: cooperative loops and head-of-line blocking",
		Difficulty:   "core",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Serve",
		Signature:    "func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64))",
		Child:        "github.com/asynclab/asynclab/exercises/headofline/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "shortest_first", Mistake: "runs the shortest queued request first, but each to completion",
				Source: exercises.HandlerSource(files, "shortest_first"), Fails: []string{"no-head-of-line"}},
			{Name: "yields_too_rarely", Mistake: "yields, but only every 40 units of work",
				Source: exercises.HandlerSource(files, "yields_too_rarely"), Fails: []string{"no-head-of-line"}},
			{Name: "goroutine_touches_loop", Mistake: "works on a goroutine that resolves the loop's future itself",
				Source: exercises.HandlerSource(files, "goroutine_touches_loop"), Fails: []string{"on-loop"}},
			{Name: "waits_for_worker", Mistake: "works on a goroutine, but the callback waits for it",
				Source: exercises.HandlerSource(files, "waits_for_worker"), Fails: []string{"no-head-of-line"}},
			{Name: "answers_after_one_slice", Mistake: "yields between slices, but answers with the first slice's result",
				Source: exercises.HandlerSource(files, "answers_after_one_slice"), Fails: []string{"responses"}},
		},
		// The harness gives up on the requests left once none has been
		// answered for 2 s (a handler that stops answering), never at a
		// fixed time a loaded machine could pass with a working handler;
		// Timeout, a wall-clock bound, only backs it up.
		Scenarios: []exercises.Scenario{
			{Name: "burst", Title: "requests of 80, 40, 20 and 10 units arrive together, then a small one every 15 ms",
				Params: map[string]string{
					wire.ParamBurst:  "80,40,20,10",
					wire.ParamStream: "3,1,8,2,5,1,12,2,1,6,3,1,15,2,4,1,7,2,3,1",
					wire.ParamEvery:  "15ms",
					wire.ParamGiveUp: "2s",
					"linger":         "50ms",
				},
				Timeout: 10 * time.Second},
			// The giant comes first and alone, so that a handler that runs a
			// request in one go when nobody else is waiting shows its
			// mistake however loaded the machine is: the small requests
			// arrive while it runs.
			{Name: "giant", Title: "one request of 150 units, alone, then a small one every 10 ms",
				Params: map[string]string{
					wire.ParamBurst:  "150",
					wire.ParamStream: "2,1,3,1,2,1,4,1,2,3,1,6,1,2,1,3,2,1,5,1,2,1,3,1,2,4,1,2,1",
					wire.ParamEvery:  "10ms",
					wire.ParamGiveUp: "2s",
					"linger":         "50ms",
				},
				Timeout: 10 * time.Second},
		},
		Checks: checks,
		// The lints the timeline shows match the rule: 20 units is about
		// 20 ms of one callback, or of a wait behind one.
		Lints:           trace.LintOptions{LongHandler: maxUnits * time.Millisecond, HeadOfLine: maxUnits * time.Millisecond},
		Judged:          []trace.LintCode{trace.LintOffLoop},
		MeasureHandlers: true,
	}
}

var checks = []exercises.Check{
	{ID: "responses", Title: "Every request gets exactly one response, with the result of all its work", Points: 35,
		Hint: "Call work until all of the request's units are done; the last value it returns is the result. Call respond once per request, never before the work is finished and never twice.",
		Eval: exercises.EachRun(responses)},
	{ID: "no-head-of-line", Title: fmt.Sprintf("No request waits behind more than %d units of other requests' work done in one callback", maxUnits), Points: 45,
		Hint:    "A callback has the loop to itself until it returns. Do a few units, then give the loop back (co.Yield in an l.Async coroutine, or l.Queue the next slice), or do the work on a goroutine and l.Post the result back without waiting for it.",
		Reached: worked,
		Eval:    exercises.EachRun(noHeadOfLine)},
	{ID: "on-loop", Title: "Loop-owned state is touched only on the loop's thread", Points: 20,
		Hint:    "work may run on any goroutine, but respond, futures, timers and the loop's methods belong to the loop. From a goroutine, hand the result to the loop with l.Post and respond there.",
		Reached: worked,
		Eval:    exercises.EachRun(onLoop)},
}

// responses passes when every request of the scenario was answered once,
// with the right result, after all of its work.
func responses(r *exercises.Run) exercises.Outcome {
	switch {
	case r.Error != "":
		return exercises.Fail(r, nil, "the run ended with %s", r.Error)
	case r.Answer == "" && r.Never != "":
		return exercises.Fail(r, nil, "the harness never saw every request answered: %s", r.Never)
	case r.Answer == "":
		return exercises.Fail(r, nil, "the program ended before every request was answered")
	}
	h := readHarness(r)
	n := len(wire.Units(r.Scenario.Params[wire.ParamBurst])) + len(wire.Units(r.Scenario.Params[wire.ParamStream]))
	var missing []string
	var first *trace.Event
	for id := 1; id <= n; id++ {
		if len(h.answers[id]) == 0 {
			missing = append(missing, fmt.Sprintf("req %d", id))
		}
		for _, a := range h.answers[id] {
			if a.Res != wire.AnswerRight && (first == nil || a.Time < first.Time) {
				first = a
			}
		}
	}
	if first != nil {
		return exercises.Fail(r, first, "%s", strings.TrimPrefix(r.Trace.Name(first.Name), wire.MarkAnswer))
	}
	if len(missing) > 0 {
		return exercises.Fail(r, nil, "%d of %d requests never got a response: %s", len(missing), n, strings.Join(missing, ", "))
	}
	return exercises.Pass()
}

// noHeadOfLine passes when no callback did more than maxUnits of other
// requests' work while a request that had arrived still waited for its
// answer.
//
// A callback's work is what the rule says, measured rather than guessed
// from which spans overlap:
//   - the units of work it ran itself, on the loop's thread, however long
//     a loaded machine stretched them;
//   - plus the work other goroutines did while it sat blocked (a channel
//     receive, Wait, a sleep, a syscall). The loop records each callback's
//     CPU time and run-queue delay (see [exercises.Exercise.MeasureHandlers]);
//     what remains of its duration it spent asleep. Off-loop work that
//     overlaps the callback is charged in that proportion: all of it to a
//     callback that blocked throughout, next to none to one that computed
//     or waited for a CPU.
//
// The box has one CPU of quota and GOMAXPROCS=2, so goroutine workers can
// take the CPU from the loop's thread: that shows as run-queue delay (the
// kernel counts time throttled by the quota there too), never as blocking,
// and so never charges a short inline callback with a worker's units.
func noHeadOfLine(r *exercises.Run) exercises.Outcome {
	h := readHarness(r)
	spans := handlerSpans(r, engineLoop)
	for _, w := range h.work {
		if w.onLoop {
			// The callback running when the work began did it.
			i := sort.Search(len(spans), func(i int) bool { return spans[i].start > w.start }) - 1
			if i >= 0 && w.start <= spans[i].end {
				spans[i].work = append(spans[i].work, charge{workCall: w, share: 1})
			}
			continue
		}
		for i := range spans {
			s := &spans[i]
			if s.start >= w.end {
				break
			}
			if f := overlap(w.start, w.end, s.start, s.end) * s.blockedShare(); f > 0 {
				s.work = append(s.work, charge{workCall: w, share: f})
			}
		}
	}
	ids := make([]int, 0, len(h.arrive))
	for id := range h.arrive {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	var (
		worst      float64
		worstSpan  *span
		worstID    int
		worstDue   int64
		worstOwned int
	)
	for si := range spans {
		s := &spans[si]
		for _, id := range ids {
			due := h.arrive[id].Time - h.arrive[id].Dur
			answered := int64(1<<63 - 1)
			if as := h.answers[id]; len(as) > 0 {
				answered = as[0].Time
			}
			var blocked float64
			for _, w := range s.work {
				if w.id != id {
					blocked += float64(w.units) * w.share * overlap(w.start, w.end, due, answered)
				}
			}
			// On a tie, name the smallest request: the short one stuck
			// behind a long one is the story.
			if blocked > worst || (blocked == worst && worstSpan != nil && int(h.arrive[id].Res) < worstOwned) {
				worst, worstSpan, worstID, worstDue, worstOwned = blocked, s, id, due, int(h.arrive[id].Res)
			}
		}
	}
	if worst <= maxUnits {
		return exercises.Pass()
	}
	s := worstSpan
	how := "in one go"
	if s.offLoop() {
		how = fmt.Sprintf("on goroutines, while it sat blocked waiting for them for %s of its %s (a channel receive, Wait, a sleep or a syscall holds the loop just the same)",
			ms(s.blocked()), ms(s.end-s.start))
	}
	o := exercises.Fail(r, s.begin,
		"req %d (%s) arrived at %s and was waiting for its answer while %q held the loop from %s to %s, and %.0f units of other requests' work were done %s; "+
			"a callback may do at most %d units while another request waits",
		worstID, wire.FormatUnits(worstOwned), ms(worstDue), s.name, ms(s.start), ms(s.end), worst, how, maxUnits)
	o.Starved = s.offLoop() && s.starved()
	return o
}

// worked reaches a check in a run where the handler did some work: a
// handler that never calls work earns nothing for never blocking anyone.
func worked(r *exercises.Run) string {
	if len(readHarness(r).work) == 0 {
		return "the handler never called work"
	}
	return ""
}

// onLoop passes when nothing touched loop-owned state from another thread:
// the engine and the harness record an off-loop lint when it happens.
func onLoop(r *exercises.Run) exercises.Outcome {
	if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintOffLoop); found {
		return o
	}
	return exercises.Pass()
}

// harness is what the in-box harness recorded: each request's arrival,
// every call of work and every answer.
type harness struct {
	arrive  map[int]*trace.Event   // id -> its arrival mark
	answers map[int][]*trace.Event // id -> its answer marks, in order
	work    []workCall
}

// workCall is one call of work that did some units.
type workCall struct {
	id, units  int
	start, end int64
	onLoop     bool
}

// readHarness collects the harness's marks on the engine's loop. Only
// marks carrying the run's tag count: the tag is on every report of the
// harness's own recorder, which a handler cannot write to.
func readHarness(r *exercises.Run) *harness {
	h := &harness{arrive: map[int]*trace.Event{}, answers: map[int][]*trace.Event{}}
	if r.Trace == nil {
		return h
	}
	tag := int64(0)
	for _, e := range r.Trace.Events {
		if e.Kind == trace.KindMark && e.Loop == report.Loop && e.Arg1 != 0 {
			tag = e.Arg1
			break
		}
	}
	if tag == 0 {
		return h
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Kind != trace.KindMark || e.Loop != engineLoop || e.Arg1 != tag {
			continue
		}
		id := int(e.Arg0)
		switch name := r.Trace.Name(e.Name); {
		case strings.HasPrefix(name, wire.MarkArrive):
			h.arrive[id] = e
		case strings.HasPrefix(name, wire.MarkAnswer):
			h.answers[id] = append(h.answers[id], e)
		case strings.HasPrefix(name, wire.MarkWork), strings.HasPrefix(name, wire.MarkWorkOff):
			h.work = append(h.work, workCall{id: id, units: int(e.Res), start: e.Time, end: e.Time + e.Dur,
				onLoop: strings.HasPrefix(name, wire.MarkWork)})
		}
	}
	for _, as := range h.answers {
		slices.SortStableFunc(as, func(a, b *trace.Event) int { return cmp.Compare(a.Time, b.Time) })
	}
	return h
}

// span is one callback on the loop: its begin event, when it ran, what the
// loop measured of its thread meanwhile, and the work charged to it.
type span struct {
	name       string
	begin      *trace.Event
	start, end int64
	cpu, delay int64 // the loop thread's CPU time and run-queue delay during it
	measured   bool  // cpu and delay were recorded
	work       []charge
}

// charge is a call of work charged to a callback, in part (share) when it
// ran on another goroutine while the callback was blocked for part of it.
type charge struct {
	workCall
	share float64
}

// blocked is how long the callback sat asleep: neither running nor
// waiting for a CPU.
func (s *span) blocked() int64 { return max(0, s.end-s.start-s.cpu-s.delay) }

// blockedShare is the part of the callback's time it spent blocked. A
// callback the loop did not measure (a trace from before it could, or one
// cut short) is taken to have blocked throughout, as the rule reads:
// whatever other goroutines did while it held the loop is its work.
func (s *span) blockedShare() float64 {
	d := s.end - s.start
	if d <= 0 {
		return 0
	}
	if !s.measured {
		return 1
	}
	return float64(s.blocked()) / float64(d)
}

// starved reports whether the callback's thread waited for a CPU at
// least half as long as it slept. A handler that blocks sleeps far longer
// than it waits; a callback that only starts goroutines and sleeps tens of
// milliseconds in a box kept off the CPU waited inside the Go runtime
// (round 9 of the stability sitting, docs/benchmarks.md), and is run
// again before it is judged.
func (s *span) starved() bool {
	return s.measured && s.blocked() > 0 && 2*s.delay >= s.blocked()
}

func (s *span) offLoop() bool {
	return slices.ContainsFunc(s.work, func(w charge) bool { return !w.onLoop })
}

// handlerSpans returns the handler's callbacks that ran on loop, in the
// order they began; the harness's own are left out, as they are never the
// handler's doing. A callback still running when the trace ends lasts
// until its last event.
func handlerSpans(r *exercises.Run, loop uint16) []span {
	var out []span
	t := r.Trace
	if t == nil {
		return nil
	}
	open := -1
	last := int64(0)
	for i := range t.Events {
		e := &t.Events[i]
		if e.Loop != loop {
			continue
		}
		last = max(last, e.Time+e.Dur)
		if e.Kind != trace.KindHandler {
			continue
		}
		switch e.Phase {
		case trace.PhaseBegin:
			out = append(out, span{name: t.Name(e.Name), begin: e, start: e.Time, end: -1})
			open = len(out) - 1
		case trace.PhaseEnd:
			if open >= 0 {
				out[open].end = e.Time
				if e.Arg0 > 0 || e.Arg1 > 0 {
					out[open].cpu, out[open].delay, out[open].measured = e.Arg0, e.Arg1, true
				}
				open = -1
			}
		}
	}
	if open >= 0 {
		out[open].end = last
	}
	// A begin without an end (a hostile or cut trace) ends where the next
	// one begins.
	for i := range out {
		if out[i].end < 0 {
			out[i].end = out[i].start
			if i+1 < len(out) {
				out[i].end = out[i+1].start
			}
		}
	}
	return slices.DeleteFunc(out, func(s span) bool { return r.ByHarness(s.begin) })
}

// overlap is the share of the call [start, end] that fell in the window
// [from, to]: the units done inside it, if units take equal time.
func overlap(start, end, from, to int64) float64 {
	if end <= start {
		if start >= from && start <= to {
			return 1
		}
		return 0
	}
	lo, hi := max(start, from), min(end, to)
	if hi <= lo {
		return 0
	}
	return float64(hi-lo) / float64(end-start)
}

// ms formats a time on the run's clock for a message: "80.4ms".
func ms(ns int64) string { return fmt.Sprintf("%.1fms", float64(ns)/1e6) }
