// Package ordering is the exercise about two writes to one file offset:
// the file ends with whichever landed last, and on io_uring that is not
// always the one issued last. The handler must order the second write
// after the first, by a link, a drain or the first's completion, and at a
// cost no higher than writing one at a time.
package ordering

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/ordering/wire"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

// maxCost is the most a handler's median pair may take, as a multiple of
// the median pair the harness writes one at a time in the same run. Every
// order that waits for the first write alone measured from 0.5× (a link:
// one io_uring_enter for both writes) to 2.7× (a coroutine that awaits the
// first write: three callbacks where the baseline has two, against a 13 µs
// baseline on epoll); a drain waits for the other stream's read, which
// completes every 10 ms, and measured hundreds of times the baseline. The
// bound sits between the two, with a factor of about four on the near
// side.
const maxCost = 10.0

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	return &exercises.Exercise{
		Slug:         "ordering",
		Title:        "Two writes to one offset: completion order decides",
		Topic:        "The Unseen Complexities: relaxed ordering, completion order versus issue order",
		Difficulty:   "core",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "WritePair",
		Signature:    "func WritePair(l *engine.Loop, fd int, off int64, first, second []byte, done func())",
		Child:        "github.com/asynclab/asynclab/exercises/ordering/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "no_ordering", Mistake: "queues two plain writes and counts on the kernel running them in the order they were queued",
				Source: exercises.HandlerSource(files, "no_ordering"), Fails: []string{"later-wins"}},
			{Name: "drain_on_everything", Mistake: "drains both writes: right bytes, but each write waits for everything else in flight on the ring",
				Source: exercises.HandlerSource(files, "drain_on_everything"), Fails: []string{"cost"}},
			{Name: "submission_order_alone", Mistake: "submits the second write in a later io_uring_enter than the first, without waiting for the first's completion",
				Source: exercises.HandlerSource(files, "submission_order_alone"), Fails: []string{"later-wins"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "race", Title: "300 pairs on a tmpfs file, and the lab's own unordered pairs: 200 plain, 200 with the first async, 200 with both async",
				Params:  map[string]string{wire.ParamPairs: "300", wire.ParamLab: "200"},
				Timeout: 10 * time.Second},
			{Name: "busy", Title: "30 pairs while the ring also reads another stream that gets a byte every 10 ms, against 30 pairs written one at a time",
				Params:  map[string]string{wire.ParamPairs: "30", wire.ParamBaseline: "30", wire.ParamOther: "10ms"},
				Timeout: 10 * time.Second},
		},
		Checks: checks,
	}
}

var checks = []exercises.Check{
	{ID: "later-wins", Title: "In every pair the second write's bytes win, and something in the code guarantees it", Points: 60,
		Hint: "The order the writes were queued in is not the order they complete in. Order the second after the first: " +
			"engine.Link on the first (one submission, the kernel starts the second when the first completes), " +
			"engine.Drain on the second, or submit the second in the first's completion callback. Call done once both have completed.",
		Reached: calledDone, Eval: laterWins},
	{ID: "cost", Title: fmt.Sprintf("With another stream in flight, a pair costs at most %g× a pair written one at a time", maxCost), Points: 40,
		Hint: "A drain orders a write after every op submitted before it, not only the first write: on a ring that also reads " +
			"from other clients it waits for them. A link, or the first write's completion, orders the second after the first alone.",
		Reached: timedBusy, Eval: costAll},
}

// calledDone reaches later-wins in a run where the handler finished at
// least one pair: a handler that never calls done made no pair to judge.
func calledDone(r *exercises.Run) string {
	if r.Values[wire.ValueDone] > 0 {
		return ""
	}
	if n, ok := r.Values[wire.ValueStuck]; ok {
		return fmt.Sprintf("the handler never called done for pair %d within %v", int(n), time.Duration(r.Values[wire.ValuePatience]))
	}
	return "the handler never called done"
}

// timedBusy reaches cost in the busy scenario's runs where the handler
// finished its pairs.
func timedBusy(r *exercises.Run) string {
	if r.Scenario.Params[wire.ParamOther] == "" {
		return "the cost is measured in the busy scenario"
	}
	if _, ok := r.Values[wire.ValueHandler]; !ok {
		return calledDone(r)
	}
	return ""
}

// problem is what went wrong in one pair of one run; rank orders them, the
// worst first.
type problem struct {
	rank int
	r    *exercises.Run
	at   *trace.Event
	msg  string
}

const (
	rankBytes     = iota // the file does not end with the second write's bytes
	rankStuck            // done never came, or came before the writes completed
	rankUnordered        // the bytes are right, but nothing in the code makes them so
	rankTwice            // done was called more than once
)

// laterWins judges every pair of every run and reports the worst problem
// found: wrong bytes anywhere outrank a pair that came out right by luck.
func laterWins(runs []*exercises.Run) exercises.Outcome {
	var worst *problem
	var undecided *exercises.Outcome
	for _, r := range runs {
		p, o := judgeRun(r)
		if o != nil && undecided == nil {
			undecided = o
		}
		// At equal rank io_uring's run tells more: the race is real there.
		if p != nil && (worst == nil || p.rank < worst.rank || p.rank == worst.rank && worst.r.Backend != backend.Uring && r.Backend == backend.Uring) {
			worst = p
		}
	}
	switch {
	case worst != nil:
		return exercises.Fail(worst.r, worst.at, "%s", worst.msg)
	case undecided != nil:
		return *undecided
	}
	return exercises.Pass()
}

// judgeRun returns the worst problem of r's pairs, or an outcome when r
// cannot be judged.
func judgeRun(r *exercises.Run) (*problem, *exercises.Outcome) {
	ps := pairs(r)
	if r.Answer == "" {
		var o exercises.Outcome
		switch {
		case r.TraceCut():
			o = exercises.NotEvaluated(r, "the pairs were not over when %s", r.Incomplete())
		case r.Error != "":
			o = exercises.Fail(r, nil, "the run ended before the pairs were over: %s", r.Error)
		case r.Never != "":
			o = exercises.Fail(r, nil, "the pairs were not over: %s", r.Never)
		default:
			o = exercises.Fail(r, nil, "the harness never reported on the pairs")
		}
		return nil, &o
	}
	count := map[wire.Outcome]int{}
	finished := 0
	for _, p := range ps {
		if p.done != nil {
			count[p.outcome]++
			finished++
		}
	}
	subs := submitsOf(r)
	var worst *problem
	note := func(rank int, at *trace.Event, format string, a ...any) {
		if worst == nil || rank < worst.rank {
			worst = &problem{rank: rank, r: r, at: at, msg: fmt.Sprintf(format, a...)}
		}
	}
	if n, ok := r.Values[wire.ValueStuck]; ok {
		if p := get(ps, int64(n)); p != nil {
			note(rankStuck, p.start, "pair %d: the handler never called done within %v (%s)",
				p.n, time.Duration(r.Values[wire.ValuePatience]), writesOf(p))
		}
	}
	for _, p := range ps {
		if p.done == nil {
			continue
		}
		if p.outcome != wire.SecondWins {
			at := p.done
			if p.late != nil {
				at = p.late
			}
			if p.outcome == wire.FirstWins && p.firstDone != nil {
				at = p.firstDone
			}
			note(rankBytes, at, "pair %d: the file ends %s, %s: %s %d of the %d pairs here ended so, %s.",
				p.n, p.bytes, p.outcome, wrongBytes(r, subs, p), count[p.outcome], finished, tally(count))
			continue
		}
		if p.first == nil || p.second == nil {
			missing := "first write (16 bytes of A)"
			if p.first != nil {
				missing = "second write (8 bytes of B)"
			}
			note(rankStuck, p.done, "pair %d: the %s was never submitted on the file before the next pair", p.n, missing)
			continue
		}
		if w := early(p); w != "" {
			note(rankStuck, p.done, "pair %d: done was called before the %s write had completed", p.n, w)
			continue
		}
		if ordering(subs, p) == unordered {
			note(rankUnordered, p.second, "pair %d: nothing orders the second write after the first: %s. %s The bytes were right in %d of %d pairs here, but no interface promises it.",
				p.n, howSubmitted(p), whyRight(r, p, count, finished), count[wire.SecondWins], finished)
			continue
		}
		if p.again != nil {
			note(rankTwice, p.again, "pair %d: done was called more than once", p.n)
		}
	}
	return worst, nil
}

// tally lists a run's outcomes: "187 first, 113 second".
func tally(count map[wire.Outcome]int) string {
	s := ""
	for _, o := range wire.Outcomes {
		if count[o] == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", count[o], o.Short())
	}
	return "in all: " + s
}

// writesOf says which of p's writes were submitted and completed.
func writesOf(p *pairView) string {
	state := func(sub, done *trace.Event) string {
		switch {
		case sub == nil:
			return "never submitted"
		case done == nil:
			return "not completed"
		}
		return "completed"
	}
	return fmt.Sprintf("first write %s, second write %s", state(p.first, p.firstDone), state(p.second, p.secondDone))
}

// early names the write that had not completed when done was called, or "".
func early(p *pairView) string {
	switch {
	case p.firstDone == nil || p.firstDone.Seq > p.done.Seq:
		return "first"
	case p.secondDone == nil || p.secondDone.Seq > p.done.Seq:
		return "second"
	}
	return ""
}

// wrongBytes says what a pair whose bytes are wrong shows in the trace.
func wrongBytes(r *exercises.Run, subs *submits, p *pairView) string {
	switch {
	case p.outcome == wire.Missing:
		return fmt.Sprintf("a write never landed (%s).", writesOf(p))
	case p.outcome == wire.Torn:
		return "the two writes' bytes are mixed."
	case p.first == nil || p.second == nil:
		return fmt.Sprintf("the first write landed last (%s).", writesOf(p))
	}
	s := "the first write landed after the second and overwrote it"
	switch f, sd := p.firstDone, p.secondDone; {
	case f == nil || sd == nil || f.Seq < sd.Seq:
	case f.Time > sd.Time:
		s += fmt.Sprintf(" (its completion came %v after the second's)", fmtNs(f.Time-sd.Time))
	default:
		s += " (its completion came after the second's, in the same io_uring_enter)"
	}
	if ordering(subs, p) == unordered {
		s += "; nothing ordered the second after the first (" + howSubmitted(p) + ")"
	}
	return s + "."
}

// howSubmitted says how p's two writes went in.
func howSubmitted(p *pairView) string {
	f, s := p.first, p.second
	flags := func(e *trace.Event) string {
		if e.Arg0&wire.FlagAsync != 0 {
			return "with Async"
		}
		return "plain"
	}
	if f.Time == s.Time {
		return fmt.Sprintf("the first (%s) and the second (%s) were submitted together, with no link from the first and no drain on the second",
			flags(f), flags(s))
	}
	return fmt.Sprintf("the second was submitted %v after the first, in a later submission, but before the first had completed", fmtNs(s.Time-f.Time))
}

// whyRight says why an unordered pair came out right in this run.
func whyRight(r *exercises.Run, p *pairView, count map[wire.Outcome]int, finished int) string {
	f, s := p.first, p.second
	switch {
	case r.Backend == backend.Epoll:
		return "On epoll the loop performs each write itself, with pwrite(2), in the order the writes were queued, so they land in that order there; on io_uring the same code leaves the order to the kernel."
	case f.Time != s.Time:
		return fmt.Sprintf("The first write was issued first, but a write the kernel hands to an io-wq worker may complete after one issued later: %d of %d pairs here ended with the first write's bytes.",
			count[wire.FirstWins], finished)
	case f.Arg0&wire.FlagAsync != 0 && s.Arg0&wire.FlagAsync != 0:
		return "Both went to io-wq, whose workers run buffered writes to one file one at a time, in the order they were queued (it hashes them by inode): that is how io-wq schedules them today."
	case f.Arg0&wire.FlagAsync == 0 && s.Arg0&wire.FlagAsync == 0:
		return "Both ran inline, in the submitting thread, in the order of the SQ: that is how the kernel issues them today; a write that cannot finish inline (engine.Async makes the first one such here) goes to an io-wq worker and loses its place."
	}
	return "Only the second write went to an io-wq worker, so the first, run inline, landed first."
}

// costAll judges cost on every run it reached and reports a failure on
// io_uring before one on epoll: the drain's cost is the kernel's own there.
func costAll(runs []*exercises.Run) exercises.Outcome {
	uringFirst := slices.Clone(runs)
	slices.SortStableFunc(uringFirst, func(a, b *exercises.Run) int {
		return cmp.Compare(rankBackend(a.Backend), rankBackend(b.Backend))
	})
	return exercises.EachRun(cost)(uringFirst)
}

func rankBackend(k backend.Kind) int {
	if k == backend.Uring {
		return 0
	}
	return 1
}

// cost compares the handler's median pair in the busy scenario with the
// harness's median pair written one at a time, in the same run.
func cost(r *exercises.Run) exercises.Outcome {
	h := r.Values[wire.ValueHandler]
	b, ok := r.Values[wire.ValueBaseline]
	if !ok || b <= 0 {
		return exercises.Fail(r, nil, "the harness could not time its one-at-a-time pairs (%s)", r.Answer)
	}
	ratio := h / b
	if ratio <= maxCost {
		return exercises.Pass()
	}
	var drained *trace.Event
	for _, p := range pairs(r) {
		for _, e := range []*trace.Event{p.first, p.second} {
			if drained == nil && e != nil && e.Arg0&wire.FlagDrain != 0 {
				drained = e
			}
		}
	}
	why := ""
	if drained != nil {
		why = fmt.Sprintf(" Your writes carry IOSQE_IO_DRAIN: a drained write starts only once every op submitted before it has completed, "+
			"and here that includes the read of the other stream, which completes only when its producer writes (every %s; %d reads completed in this run).",
			r.Scenario.Params[wire.ParamOther], int(r.Values[wire.ValueBusyRead]))
		if r.Backend == backend.Uring {
			why += " On this kernel a drain also leaves the ring in drain mode until nothing is in flight, so later ops, drained or not, can wait for that read too."
		}
	}
	return exercises.Fail(r, drained, "your pairs took %s each (median), %.1f× the %s of pairs written one at a time in the same run (the second submitted once the first had completed); at most %g× passes.%s",
		fmtNs(int64(h)), ratio, fmtNs(int64(b)), maxCost, why)
}

func fmtNs(ns int64) string {
	return time.Duration(ns).Round(time.Microsecond).String()
}
