// Package cancelrace is the exercise about cancelling a read that may
// complete at any moment: the cancel and the completion race, the read's
// own completion alone says who won, and its buffer is the kernel's until
// then.
package cancelrace

import (
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/asynclab/asynclab/exercises/cancelrace/wire"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

// engineLoop is the loop id of the engine's own events, and of the
// harness's marks, in a run's trace.
const engineLoop = 0

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	return &exercises.Exercise{
		Slug:         "cancelrace",
		Title:        "Cancelling a read that may complete at any moment",
		Topic:        "The Devil in the Details: cancellation races completion",
		Difficulty:   "challenge",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Handle",
		Signature: "func Handle(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(), " +
			"afterCancel func(f func(answer func(err error))))",
		Child:     "github.com/asynclab/asynclab/exercises/cancelrace/child",
		Starter:   exercises.HandlerSource(files, "starter"),
		Reference: exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "non_atomic_flag", Mistake: "decides the report by a plain flag the canceller's goroutine sets, not by the read's result",
				Source: exercises.HandlerSource(files, "non_atomic_flag"), Fails: []string{"no-loss"}},
			{Name: "buffer_freed_at_cancel_completion", Mistake: "gives the buffer back when the cancel completes, before the read's own completion",
				Source: exercises.HandlerSource(files, "buffer_freed_at_cancel_completion"), Fails: []string{"buffer-held"}},
			{Name: "ealready_treated_as_done", Mistake: "takes EALREADY for \"already cancelled\" and reports the read as cancelled then",
				Source: exercises.HandlerSource(files, "ealready_treated_as_done"), Fails: []string{"after-completion", "no-loss"}},
			{Name: "enoent_reported_again", Mistake: "reports the request again when a late cancel answers ENOENT",
				Source: exercises.HandlerSource(files, "enoent_reported_again"), Fails: []string{"once"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "socket", Title: "a read on a socket; the bytes come at a random moment, and the cancel around it",
				Timeout: 8 * time.Second,
				Params: map[string]string{wire.ParamSource: "socket",
					wire.ParamCount(wire.Race): "40", wire.ParamCount(wire.Early): "2",
					wire.ParamCount(wire.Busy): "6", wire.ParamCount(wire.Late): "4"}},
			{Name: "file", Title: "a 15 MiB file read that an io-wq worker runs; the cancel comes while it copies",
				Timeout: 5 * time.Second,
				Params: map[string]string{wire.ParamSource: "file", wire.ParamSize: fmt.Sprint(15 << 20),
					wire.ParamCount(wire.Warm): "2", wire.ParamCount(wire.File): "20", wire.ParamCount(wire.Late): "2"}},
		},
		Checks: checks,
	}
}

var checks = []exercises.Check{
	{ID: "once", Title: "Every read is reported exactly once", Points: 20,
		Hint: "Report in the read's own completion, and only there: a cancel's answer is not the read's outcome, " +
			"whatever it says.",
		Eval: exercises.EachRun(harnessJudged("once"))},
	{ID: "after-completion", Title: "A read is reported on the loop, after its own completion", Points: 15,
		Hint: "A cancel's answer comes before the read's completion (0 or EALREADY on io_uring): the read has not ended yet. " +
			"Wait for the read's completion, and report from the loop's thread.",
		Reached: reported, Eval: exercises.EachRun(harnessJudged("after-completion"))},
	{ID: "no-loss", Title: "No byte is lost: a report delivers exactly what its read took", Points: 20,
		Hint: "Decide the report by the read's own result, not by whether a cancel was asked for: " +
			"a cancel that comes too late leaves a read that took its bytes, and only the report can deliver them.",
		Reached: reported, Eval: exercises.EachRun(harnessJudged("no-loss"))},
	{ID: "buffer-held", Title: "The buffer goes back once, after its read's own completion", Points: 20,
		Hint: "The kernel may write the buffer until the read's own completion arrives, even after the cancel has answered. " +
			"Release it there, once, on the loop.",
		Reached: usedBuffer, Eval: exercises.EachRun(harnessJudged("buffer-held"))},
	{ID: "cancels", Title: "A cancel asked for while the read waits stops it", Points: 10,
		Hint:    "Get the request onto the loop (l.Post) and cancel the read there (l.AsyncCancel).",
		Reached: registered, Eval: exercises.EachRun(harnessJudged("cancels"))},
	{ID: "answer", Title: "Every cancel request is answered once, on the loop, with what the cancel found", Points: 15,
		Hint: "Answer with the cancel's own result, which AsyncCancel's op gives: nil when it stopped the read, " +
			"EALREADY when the read was already completing, ENOENT when it had completed.",
		Reached: registered, Eval: exercises.EachRun(judgeAnswers)},
}

// harnessJudged makes the Eval of a check the harness judges trial by
// trial: it fails at the first trial the harness found wrong, pointing at
// the moment the problem is about.
func harnessJudged(id string) func(r *exercises.Run) exercises.Outcome {
	return func(r *exercises.Run) exercises.Outcome {
		if o, ok := unfinished(r); !ok {
			return o
		}
		ts := trials(r)
		var first *problemMark
		n := 0
		for _, t := range ts {
			for i := range t.problems {
				if p := &t.problems[i]; p.check == id {
					n++
					if first == nil {
						first = p
					}
				}
			}
		}
		if first == nil {
			return exercises.Pass()
		}
		more := ""
		if n > 1 {
			more = fmt.Sprintf(" (%d of the %d trials went wrong this way)", n, len(ts))
		}
		return exercises.Fail(r, first.moment(ts[first.trial-1]), "%s%s", first.sentence, more)
	}
}

// unfinished fails (or does not evaluate) a run whose harness never got to
// judge its trials, and reports ok for one whose harness did.
func unfinished(r *exercises.Run) (o exercises.Outcome, ok bool) {
	switch {
	case r.Answer != "":
		return exercises.Outcome{}, true
	case r.TraceCut():
		return exercises.NotEvaluated(r, "the trials were not over when %s", r.Incomplete()), false
	case r.Error != "":
		return exercises.Fail(r, nil, "the run ended before its trials were over: %s", r.Error), false
	case r.Never != "":
		return exercises.Fail(r, nil, "the trials were not over: %s", r.Never), false
	}
	return exercises.NotEvaluated(r, "the harness never finished its trials"), false
}

func reported(r *exercises.Run) string {
	if r.Values[wire.ValueReports] > 0 {
		return ""
	}
	return "the handler never reported a read"
}

func usedBuffer(r *exercises.Run) string {
	if r.Values[wire.ValueReports]+r.Values[wire.ValueReleases] > 0 {
		return ""
	}
	return "the handler never reported a read or released a buffer"
}

func registered(r *exercises.Run) string {
	if r.Values[wire.ValueCancelFns] > 0 {
		return ""
	}
	return "the handler never registered a cancel function with afterCancel"
}

// judgeAnswers checks each cancel request's answers against the kernel's
// own answer, which the trace records as a cancel event of the read. A
// handler that never asked the kernel (it saw the read end on the loop)
// must answer as the kernel would have: nil if the read was cancelled, and
// ENOENT once it had completed.
func judgeAnswers(r *exercises.Run) exercises.Outcome {
	if o, ok := unfinished(r); !ok {
		return o
	}
	for _, t := range trials(r) {
		if t.asked == nil {
			continue
		}
		switch {
		case len(t.answers) == 0:
			return exercises.Fail(r, t.asked, "trial %d (%s): the cancel asked for at %s was never answered", t.n, t.kind, ms(t.asked.Time))
		case len(t.answers) > 1:
			return exercises.Fail(r, t.answers[1], "trial %d (%s): the cancel was answered %d times (%s, then %s)", t.n, t.kind,
				len(t.answers), answerName(t.answers[0].Res), answerName(t.answers[1].Res))
		case t.answers[0].Fd == 1:
			return exercises.Fail(r, t.answers[0], "trial %d (%s): answer was called off the loop's thread", t.n, t.kind)
		}
		a := t.answers[0]
		var kernel []*trace.Event
		for _, c := range t.cancels {
			if c.Time >= t.asked.Time && c.Seq < a.Seq {
				kernel = append(kernel, c)
			}
		}
		if len(kernel) > 0 {
			ok := false
			for _, c := range kernel {
				ok = ok || c.Res == a.Res
			}
			if !ok {
				return exercises.Fail(r, a, "trial %d (%s): answered %s, but the kernel had answered the cancel with %s at %s", t.n, t.kind,
					answerName(a.Res), answerName(kernel[0].Res), ms(kernel[0].Time))
			}
			continue
		}
		// No cancel reached the kernel before the answer.
		switch {
		case t.completion == nil || t.completion.Seq > a.Seq:
			return exercises.Fail(r, a, "trial %d (%s): answered %s at %s, before any cancel had reached the kernel and before the read had ended",
				t.n, t.kind, answerName(a.Res), ms(a.Time))
		case t.outcome == wire.Cancelled && a.Res != 0:
			return exercises.Fail(r, a, "trial %d (%s): answered %s, but the read had been cancelled (ECANCELED)", t.n, t.kind, answerName(a.Res))
		case t.outcome != wire.Cancelled && a.Res != -wire.ENOENT:
			return exercises.Fail(r, a, "trial %d (%s): answered %s, but the read had already completed (%s), so there was nothing to cancel: ENOENT",
				t.n, t.kind, answerName(a.Res), completionName(t.completion.Res))
		}
	}
	return exercises.Pass()
}

// trialView is one trial as the trace shows it.
type trialView struct {
	n          int
	kind       wire.Kind
	op         uint64
	start, end *trace.Event
	asked      *trace.Event
	reports    []*trace.Event
	answers    []*trace.Event
	releases   []*trace.Event
	outcome    wire.Outcome
	completion *trace.Event   // the read's own completion
	cancels    []*trace.Event // the kernel's answers to cancels of the read
	problems   []problemMark
}

// problemMark is a MarkProblem, read.
type problemMark struct {
	trial    int
	check    string
	sentence string
	at       wire.Moment
	index    int
	mark     *trace.Event
}

// moment returns the event p is about in t, or p's own mark.
func (p *problemMark) moment(t *trialView) *trace.Event {
	pick := func(es []*trace.Event) *trace.Event {
		if p.index >= 0 && p.index < len(es) {
			return es[p.index]
		}
		return nil
	}
	var e *trace.Event
	switch p.at {
	case wire.AtEnd:
		e = t.end
	case wire.AtReport:
		e = pick(t.reports)
	case wire.AtRelease:
		e = pick(t.releases)
	case wire.AtAnswer:
		e = pick(t.answers)
	case wire.AtCompletion:
		e = t.completion
	}
	if e == nil {
		return p.mark
	}
	return e
}

// trials reads r's trials from the harness's marks and the engine's events.
// A trial the marks never started is left out.
func trials(r *exercises.Run) []*trialView {
	if r.Trace == nil {
		return nil
	}
	var ts []*trialView
	get := func(n int64) *trialView {
		if n < 1 || int(n) > len(ts) {
			return nil
		}
		return ts[n-1]
	}
	byOp := map[uint64]*trialView{}
	evs := r.Trace.Events
	for i := range evs {
		e := &evs[i]
		if e.Loop != engineLoop || e.Kind != trace.KindMark || e.Arg1 != r.Tag || r.Tag == 0 {
			continue
		}
		name := r.Trace.Name(e.Name)
		if strings.HasPrefix(name, wire.MarkStart) {
			if int(e.Arg0) == len(ts)+1 {
				t := &trialView{n: int(e.Arg0), kind: wire.Kind(e.Res), op: e.Op, start: e, outcome: wire.Pending}
				ts = append(ts, t)
				byOp[e.Op] = t
			}
			continue
		}
		t := get(e.Arg0)
		if t == nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, wire.MarkAsked):
			if t.asked == nil {
				t.asked = e
			}
		case strings.HasPrefix(name, wire.MarkReport):
			t.reports = append(t.reports, e)
		case strings.HasPrefix(name, wire.MarkAnswer):
			t.answers = append(t.answers, e)
		case strings.HasPrefix(name, wire.MarkRelease):
			t.releases = append(t.releases, e)
		case strings.HasPrefix(name, wire.MarkEnd):
			t.end, t.outcome = e, wire.Outcome(e.Res)
		case strings.HasPrefix(name, wire.MarkProblem):
			if id, sentence, ok := wire.ParseProblem(name); ok {
				t.problems = append(t.problems, problemMark{trial: t.n, check: id, sentence: sentence,
					at: wire.Moment(e.Fd), index: int(e.Res), mark: e})
			}
		}
	}
	for i := range evs {
		e := &evs[i]
		if e.Loop != engineLoop || e.Op == 0 {
			continue
		}
		t := byOp[e.Op]
		if t == nil {
			continue
		}
		switch e.Kind {
		case trace.KindComplete:
			if t.completion == nil {
				t.completion = e
			}
		case trace.KindCancel:
			t.cancels = append(t.cancels, e)
		}
	}
	return ts
}

func ms(t int64) string { return fmt.Sprintf("%.3f ms", float64(t)/1e6) }

// answerName names an answer to a cancel, as a MarkAnswer's or a cancel
// event's Res has it.
func answerName(res int64) string {
	switch {
	case res == 0:
		return "0 (stopped the read)"
	case res == wire.AnswerOther:
		return "an error that is no errno"
	case res < 0 && trace.ErrnoName(-res) != "":
		return trace.ErrnoName(-res)
	}
	return fmt.Sprint(res)
}

// completionName names a read's result: "24 B", "ECANCELED".
func completionName(res int64) string {
	if res >= 0 {
		return fmt.Sprintf("%d B", res)
	}
	return answerName(res)
}
