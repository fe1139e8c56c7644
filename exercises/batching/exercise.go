// Package batching is the syscall batching exercise: fill io_uring's
// submission queue, enter the kernel once per batch, reap completions in
// bulk, and measure the break-even batch size B*.
package batching

import (
	"embed"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/asynclab/asynclab/exercises/batching/wire"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

const (
	// enterSlack is how many io_uring_enter calls a handler may make
	// beyond ceil(ops/entries): a last wait for stragglers, a flush.
	enterSlack = 4
	// maxRatio is the most time a handler's NOPs may spend in
	// io_uring_enter, as a fraction of the harness's own one-op-per-enter
	// run of the same NOPs in the same process (see speedUp). Measured on
	// the reference, the known-wrong variants and the 31 corpus handlers,
	// two runs each on a loaded 2-core machine: every batched handler,
	// including one that yields to the loop after every batch, 0.12 to
	// 0.19; every handler that still pays a crossing per op (the starter,
	// batch_of_one, an enter per completion, a submit per prep, a yield per
	// op) 0.65 to 2.1. The bound sits at about their geometric middle,
	// nearly a factor of two from each side. (Those figures summed the
	// enters' wall times; each side now counts its enters times their
	// median, which leaves out a preempted enter and moves neither group
	// towards the bound.)
	maxRatio = 0.35
)

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	return &exercises.Exercise{
		Slug:         "batching",
		Title:        "Syscall batching and the break-even batch size",
		Topic:        "The Quest for Ultimate Performance: io_uring's SQ and CQ, batching, B* = 2(ts+tk)/(2(ts+tk) − tr)",
		Difficulty:   "challenge",
		Backends:     []backend.Kind{backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Batch",
		Signature:    "func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error))",
		Child:        "github.com/asynclab/asynclab/exercises/batching/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "batch_of_one", Mistake: "a batching loop whose batch size is one: one io_uring_enter per op again",
				Source: exercises.HandlerSource(files, "batch_of_one"), Fails: []string{"batched-enters", "speed-up"}},
			{Name: "one_enter_per_completion", Mistake: "submits a full SQ at once, then enters the kernel for every completion",
				Source: exercises.HandlerSource(files, "one_enter_per_completion"), Fails: []string{"batched-enters", "speed-up"}},
			{Name: "overrun_sq", Mistake: "prepares more SQEs than the SQ holds and ignores ErrSQFull, dropping the rest",
				Source: exercises.HandlerSource(files, "overrun_sq"), Fails: []string{"correct-data", "no-op-lost"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "ring-32", Title: "1000 reads of 64 B and 1000 NOPs on a 32-entry ring, then the B* measurements",
				Params: map[string]string{"ring": "32", "reads": "1000", "nops": "1000", "size": "64",
					"file": "65536", "timed": "5", "seed": "1", "sweep": "yes"},
				Timeout: 8 * time.Second},
			{Name: "ring-16", Title: "700 reads of 1 B and 700 NOPs on a 16-entry ring",
				Params: map[string]string{"ring": "16", "reads": "700", "nops": "700", "size": "1",
					"file": "4096", "timed": "5", "seed": "2"},
				Timeout: 8 * time.Second},
		},
		Checks: checks,
	}
}

var checks = []exercises.Check{
	{ID: "correct-data", Title: "Every read returns the file's bytes, in the order of offsets", Points: 30,
		Hint: "A Prep that returns ErrSQFull did not queue anything: submit, reap, and prepare that op again. Call done only when every op has completed.",
		Eval: exercises.EachRun(correctData)},
	{ID: "no-op-lost", Title: "No op is lost: every read and every NOP is submitted, and each SQE is reaped exactly once", Points: 20,
		Hint: "The SQ holds r.Entries() SQEs. When Prep returns engine.ErrSQFull, submit what is queued and reap before preparing more; count what is in flight and wait until it is all reaped.",
		Eval: exercises.EachRun(noOpLost)},
	{ID: "batched-enters", Title: "One io_uring_enter per full SQ on your ring: at most ceil(ops/entries) + 4 per call", Points: 30,
		Hint:    "Prepare SQEs until ErrSQFull, then make one r.SubmitAndWait(n) that submits the batch and waits for all n of its ops (tmpfs reads finish later, on the kernel's io-wq threads), and Reap every CQE: reaping is shared memory, not a system call.",
		Reached: preparedAny,
		Eval:    exercises.EachRun(batchedEnters)},
	{ID: "speed-up", Title: fmt.Sprintf("NOPs spend at most %.2f× the time in io_uring_enter of one NOP per enter, measured in the same run", maxRatio), Points: 20,
		Hint:    "The time goes into user-kernel transitions: one per op in the starter. Fewer io_uring_enter calls, each carrying a full SQ, is what makes it faster.",
		Reached: ranTheNops,
		Eval:    exercises.EachRun(speedUp)},
}

// preparedAny reaches a check in a run where the handler prepared at least
// one SQE: a handler that gives up at once makes no enters, and earns
// nothing for it.
func preparedAny(r *exercises.Run) string {
	ws, o := windows(r)
	if o != nil {
		return ""
	}
	for _, w := range ws {
		for _, e := range in(r, w) {
			if e.Kind == trace.KindSubmit {
				return ""
			}
		}
	}
	return "the handler never prepared an SQE"
}

// ranTheNops reaches the speed-up check in a run where every timed call
// prepared at least the NOPs it was given: NOPs never run take no time.
func ranTheNops(r *exercises.Run) string {
	ws, o := windows(r)
	if o != nil {
		return ""
	}
	for _, w := range ws {
		if _, timed := value(r, fmt.Sprintf(wire.ValueCPU, w.i)); !timed {
			continue
		}
		prepared := 0
		for _, e := range in(r, w) {
			if e.Kind == trace.KindSubmit {
				prepared++
			}
		}
		if prepared < w.nops {
			return fmt.Sprintf("call %d prepared %d SQEs for its %d NOPs, so there was nothing to time", w.i+1, prepared, w.nops)
		}
	}
	return ""
}

// value returns one of the harness's measurements.
func value(r *exercises.Run, name string) (float64, bool) {
	v, ok := r.Values[name]
	return v, ok
}

func intParam(r *exercises.Run, k string) int {
	n, _ := strconv.Atoi(r.Scenario.Params[k])
	return n
}

// window is one call of the handler, from just before the harness called
// it to the moment it called done.
type window struct {
	i           int
	reads, nops int // what the call asked for
	start, end  int64
	finished    bool
}

// windows returns the handler's calls in r, or a failing outcome when the
// harness did not get that far.
func windows(r *exercises.Run) ([]window, *exercises.Outcome) {
	if r.Error != "" {
		// The calls were cut short: what they would have done cannot be
		// counted. correct-data fails such a run on its own.
		o := exercises.NotEvaluated(r, "the run ended with %s, so the calls could not be counted", r.Error)
		return nil, &o
	}
	n, ok := value(r, wire.ValueCalls)
	if !ok || n < 1 {
		o := exercises.Fail(r, nil, "the harness never called the handler (%s)", answerOr(r))
		return nil, &o
	}
	var ws []window
	for i := 0; i < int(n); i++ {
		s, ok := value(r, fmt.Sprintf(wire.ValueStart, i))
		if !ok {
			o := exercises.Fail(r, nil, "the handler was not called a %s time (%s)", ordinal(i+1), answerOr(r))
			return nil, &o
		}
		e, done := value(r, fmt.Sprintf(wire.ValueEnd, i))
		reads, _ := value(r, fmt.Sprintf(wire.ValueReads, i))
		nops, _ := value(r, fmt.Sprintf(wire.ValueNops, i))
		ws = append(ws, window{i: i, reads: int(reads), nops: int(nops), start: int64(s), end: int64(e), finished: done})
	}
	return ws, nil
}

// what says what a call asked for.
func (w window) what() string {
	switch {
	case w.reads > 0 && w.nops > 0:
		return fmt.Sprintf("%d reads and %d NOPs", w.reads, w.nops)
	case w.reads > 0:
		return fmt.Sprintf("%d reads", w.reads)
	}
	return fmt.Sprintf("%d NOPs", w.nops)
}

func answerOr(r *exercises.Run) string {
	switch {
	case r.Answer != "":
		return "the harness said: " + r.Answer
	case r.Never != "":
		return r.Never
	}
	return "no report"
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return strconv.Itoa(n) + "th"
}

// in returns the events of the loop's own recorder inside w.
func in(r *exercises.Run, w window) []*trace.Event {
	var out []*trace.Event
	if r.Trace == nil {
		return nil
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Loop == 0 && e.Time >= w.start && e.Time <= w.end {
			out = append(out, e)
		}
	}
	return out
}

// eventAt returns the last event of the loop at or before t, to point at.
func eventAt(r *exercises.Run, t int64) *trace.Event {
	var at *trace.Event
	if r.Trace == nil {
		return nil
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Loop == 0 && e.Time <= t && (at == nil || e.Time >= at.Time) {
			at = e
		}
	}
	return at
}

// traceWhole fails a run whose trace lost events: the checks that count
// events could not tell a lost op from a lost record.
func traceWhole(r *exercises.Run) *exercises.Outcome {
	if r.Trace == nil {
		o := exercises.Fail(r, nil, "no trace came back (%v)", r.TraceErr)
		return &o
	}
	if r.Trace.Dropped > 0 {
		o := exercises.Fail(r, nil, "the trace lost %d events, so the ops cannot be counted: do not flood the trace with marks", r.Trace.Dropped)
		return &o
	}
	return nil
}

func correctData(r *exercises.Run) exercises.Outcome {
	if r.Error != "" {
		return exercises.Fail(r, nil, "the run ended with %s: the data never came back", r.Error)
	}
	ws, o := windows(r)
	if o != nil {
		return *o
	}
	for _, w := range ws {
		reads := w.reads
		if !w.finished {
			return exercises.Fail(r, nil, "call %d (%s) never called done within a second", w.i+1, w.what())
		}
		at := eventAt(r, w.end)
		if v, _ := value(r, fmt.Sprintf(wire.ValueErr, w.i)); v == 1 {
			return exercises.Fail(r, at, "call %d called done with an error (%s)", w.i+1, answerOr(r))
		}
		if n, _ := value(r, fmt.Sprintf(wire.ValueLen, w.i)); int(n) != reads {
			return exercises.Fail(r, at, "call %d handed done %d results for %d reads", w.i+1, int(n), reads)
		}
		bad, _ := value(r, fmt.Sprintf(wire.ValueBad, w.i))
		first, _ := value(r, fmt.Sprintf(wire.ValueFirstBad, w.i))
		if bad > 0 {
			return exercises.Fail(r, at, "call %d: %d of %d reads handed back bytes that are not the file's (the first is read %d); a read that never ran leaves its buffer zero",
				w.i+1, int(bad), reads, int(first))
		}
	}
	return exercises.Pass()
}

func noOpLost(r *exercises.Run) exercises.Outcome {
	ws, o := windows(r)
	if o != nil {
		return *o
	}
	if o := traceWhole(r); o != nil {
		return *o
	}
	for _, w := range ws {
		reads, nops := w.reads, w.nops
		if !w.finished {
			return exercises.Fail(r, nil, "call %d never called done, so its ops cannot all have been reaped", w.i+1)
		}
		submits := map[uint64]int{}
		var order []*trace.Event // each user_data's first submit, in trace order
		reaped := map[uint64]int{}
		nRead, nNop := 0, 0
		var last *trace.Event
		for _, e := range in(r, w) {
			switch e.Kind {
			case trace.KindSubmit:
				switch r.Trace.Name(e.Name) {
				case "READ":
					nRead++
				case "NOP":
					nNop++
				}
				if submits[e.Op] == 0 {
					order = append(order, e)
				}
				submits[e.Op]++
				last = e
			case trace.KindComplete:
				reaped[e.Op]++
			}
		}
		at := last
		if at == nil {
			at = eventAt(r, w.end)
		}
		if nRead < reads {
			return exercises.Fail(r, at, "call %d prepared only %d of its %d reads: the others were never queued (a Prep that returns ErrSQFull queues nothing)",
				w.i+1, nRead, reads)
		}
		if nNop != nops {
			return exercises.Fail(r, at, "call %d prepared %d NOPs; it was asked for %d, each completed exactly once", w.i+1, nNop, nops)
		}
		for _, e := range order {
			if n := submits[e.Op]; reaped[e.Op] != n {
				return exercises.Fail(r, e, "call %d: the op with user_data %d was submitted %d time(s) and reaped %d time(s) before done",
					w.i+1, e.Op, n, reaped[e.Op])
			}
		}
	}
	return exercises.Pass()
}

// countEnters returns the io_uring_enter calls of call w on the
// handler's own rings (not the loop's, loopFd), the SQEs it prepared and
// how many of them its enters submitted.
func countEnters(r *exercises.Run, w window, loopFd int) (enters []*trace.Event, prepared int, submitted int64) {
	for _, e := range in(r, w) {
		switch {
		case e.Kind == trace.KindSubmit:
			prepared++
		case e.Kind == trace.KindSyscall && e.Phase != trace.PhaseBegin && r.Trace.Name(e.Name) == "io_uring_enter" && int(e.Fd) != loopFd:
			enters = append(enters, e)
			if e.Res > 0 {
				submitted += e.Res
			}
		}
	}
	return enters, prepared, submitted
}

func batchedEnters(r *exercises.Run) exercises.Outcome {
	ws, o := windows(r)
	if o != nil {
		return *o
	}
	if o := traceWhole(r); o != nil {
		return *o
	}
	loopFd := -1
	if v, ok := value(r, wire.ValueLoopRingFd); ok {
		loopFd = int(v)
	}
	entries := intParam(r, "ring")
	for _, w := range ws {
		ops := w.reads + w.nops
		need := (ops + entries - 1) / entries
		bound := need + enterSlack
		if !w.finished {
			return exercises.Fail(r, nil, "call %d never called done, so its io_uring_enter calls cannot be counted", w.i+1)
		}
		enters, prepared, submitted := countEnters(r, w, loopFd)
		if len(enters) > bound {
			return exercises.Fail(r, enters[bound], "call %d (%s) made %d io_uring_enter calls on a %d-entry ring; ceil(%d/%d) = %d enters carry every op (at most %d allowed)",
				w.i+1, w.what(), len(enters), entries, ops, entries, need, bound)
		}
		if submitted < int64(prepared) {
			return exercises.Fail(r, eventAt(r, w.end), "call %d prepared %d SQEs, but its traced io_uring_enter calls on a raw ring submitted only %d: hand every SQE to the kernel with r.Submit or r.SubmitAndWait",
				w.i+1, prepared, submitted)
		}
	}
	return exercises.Pass()
}

// speedUp compares the time the handler's fastest timed call spent
// crossing into the kernel with the harness's fastest one-NOP-per-enter run
// of the same NOPs, measured in the same process from the same trace.
//
// What batching saves is user-kernel transitions, so that is what is
// measured: the time of every io_uring_enter on the handler's ring during
// the call, plus one bare crossing (the baseline's median enter) for every
// turn the loop made on its own ring meanwhile, since a handler that gives
// the loop back causes those. The loop's other work between callbacks, and
// the handler's coroutine or callback switches, are not what the exercise
// is about and are not charged: a handler that yields between batches is
// judged like one that does not, and one that yields after every op pays a
// crossing per op again. The CPU times the harness measured are shown in
// the run's answer; they are not graded.
//
// Each side is counted as its number of enters times its median enter,
// not as the sum of their wall times: an enter during which the kernel
// switched the thread out for a millisecond (a loaded machine does) is
// the machine's time, not the handler's, and one such enter among 44 once
// took a correct handler from 0.3 to 0.61 of the baseline in CI.
func speedUp(r *exercises.Run) exercises.Outcome {
	ws, o := windows(r)
	if o != nil {
		return *o
	}
	for _, w := range ws {
		if !w.finished {
			return exercises.Fail(r, nil, "call %d never called done, so it could not be timed", w.i+1)
		}
	}
	loopFd := -1
	if v, ok := value(r, wire.ValueLoopRingFd); ok {
		loopFd = int(v)
	}
	var base, perEnter float64
	for t := 0; ; t++ {
		s, ok1 := value(r, fmt.Sprintf(wire.ValueBaseStart, t))
		e, ok2 := value(r, fmt.Sprintf(wire.ValueBaseEnd, t))
		if !ok1 || !ok2 {
			break
		}
		durs := enterDurs(r, int64(s), int64(e), -1)
		if cost := typical(durs); len(durs) > 0 && (base == 0 || cost < base) {
			base, perEnter = cost, median(durs)
		}
	}
	if base <= 0 {
		return exercises.Fail(r, nil, "the harness could not time its baseline (%s)", answerOr(r))
	}
	var best float64
	var bestLoop int
	for _, w := range ws {
		if _, timed := value(r, fmt.Sprintf(wire.ValueCPU, w.i)); !timed {
			continue
		}
		own := typical(enterDurs(r, w.start, w.end, loopFd))
		turns := 0
		if loopFd >= 0 {
			for _, e := range in(r, w) {
				if isEnter(r, e) && int(e.Fd) == loopFd {
					turns++
				}
			}
		}
		if cost := own + float64(turns)*perEnter; best == 0 || cost < best {
			best, bestLoop = cost, turns
		}
	}
	if best > maxRatio*base {
		extra := ""
		if bestLoop > 0 {
			extra = fmt.Sprintf(", counting %d turns of the loop on its own ring as a crossing each", bestLoop)
		}
		return exercises.Fail(r, r.AnswerEvent, "your fastest run of %s NOPs spent about %s in io_uring_enter (its enters times their median)%s; one NOP per enter spent %s: %.2f× its time, and batching brings it under %.2f×",
			r.Scenario.Params["nops"], fmtNs(best), extra, fmtNs(base), best/base, maxRatio)
	}
	return exercises.Pass()
}

// enterDurs returns the durations of the io_uring_enter calls on loop 0
// between from and to, leaving out those on the descriptor skip.
func enterDurs(r *exercises.Run, from, to int64, skip int) []int64 {
	var out []int64
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Loop == 0 && e.Time >= from && e.Time <= to && isEnter(r, e) && int(e.Fd) != skip {
			out = append(out, e.Dur)
		}
	}
	return out
}

func isEnter(r *exercises.Run, e *trace.Event) bool {
	return e.Kind == trace.KindSyscall && e.Phase != trace.PhaseBegin && r.Trace.Name(e.Name) == "io_uring_enter"
}

func fmtNs(ns float64) string {
	return time.Duration(ns).Round(time.Microsecond).String()
}

// median returns the middle of durs (which it sorts), 0 for none.
func median(durs []int64) float64 {
	if len(durs) == 0 {
		return 0
	}
	slices.Sort(durs)
	return float64(durs[len(durs)/2])
}

// typical is what enters of these durations cost without the outliers a
// loaded machine adds: their number times their median.
func typical(durs []int64) float64 { return float64(len(durs)) * median(durs) }
