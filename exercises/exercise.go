// Package exercises defines what an exercise is: its text, its handlers
// (starter, reference, known-wrong variants), the trusted scenarios it runs
// against, and the checks that grade it. Each exercise lives in its own
// folder below this one and is listed in package catalog.
package exercises

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/report"
)

// Exercise is one exercise.
type Exercise struct {
	Slug         string
	Title        string
	Topic        string // the section of the seed text it teaches
	Difficulty   string // "intro", "core" or "challenge"
	Backends     []backend.Kind
	Instructions string // Markdown
	// Predict is the question the student answers before running, and
	// how the run answers it; nil when the exercise has none.
	Predict *Prediction

	// Entry is the handler function the harness calls, and Signature its
	// declaration, shown when a submission does not match it.
	Entry     string
	Signature string
	// Child is the import path of the harness package that runs inside the
	// sandbox and calls Entry. Its Main takes the handler function.
	Child string

	Starter   []byte
	Reference []byte // never served to students
	Variants  []Variant

	Scenarios []Scenario
	Checks    []Check
	// Limits bound each run of a handler. Limits.Trace is the exercise's
	// trace cap: the most trace bytes one run (one scenario on one
	// backend) may record; zero means DefaultTraceCap. Past it the run is
	// stopped and its checks are not evaluated (see [Run.Incomplete]).
	Limits sandbox.Limits
	// Lints are the thresholds of the trace analysis, chosen to match what
	// the checks grade. Grading analyses each run once with them and
	// stores the findings with the result; checks, the timeline and
	// replays all read those findings and never analyse again.
	Lints trace.LintOptions
	// Judged are the lint codes the checks judge a handler by. The
	// timeline shows those findings as problems and the analysis's others
	// quietly, as context: a passing handler is not covered in red for
	// what the exercise does not grade.
	Judged []trace.LintCode
	// MeasureHandlers asks the loop to record each callback's CPU time and
	// run-queue delay (a system call per callback), for checks that must
	// tell a callback that computed or was descheduled from one that sat
	// blocked while other threads worked.
	MeasureHandlers bool
}

// Variant is a known-wrong handler, named after the mistake it makes. Fails
// lists the ids of exactly the checks it must fail; it must pass the rest.
type Variant struct {
	Name    string
	Mistake string
	Source  []byte
	Fails   []string
}

// Scenario is one trusted setting a handler runs in: the peers it talks
// to, the fixtures it finds, the parameters it is given.
type Scenario struct {
	Name    string
	Title   string
	Params  map[string]string
	Timeout time.Duration // how long the handler has to answer; default 3s

	// Peer, if set, runs on the server's side inside the box's network
	// namespace, outside its pid namespace, and records what it saw in
	// obs. It must call ns.Ready once its listeners are up. params are the
	// scenario's, and Peer may add to them (a port it chose) before Ready.
	Peer func(ctx context.Context, ns *sandbox.NetNS, params map[string]string, obs *Observations) error
}

// Observations are what a trusted peer saw. They are safe for concurrent
// use.
type Observations struct {
	mu sync.Mutex
	m  map[string]string
}

// Set records an observation.
func (o *Observations) Set(k, v string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[string]string)
	}
	o.m[k] = v
}

// Get returns an observation, or "".
func (o *Observations) Get(k string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[k]
}

// Run is one run of a handler in one scenario on one backend, as the
// trusted side saw it: the sandbox's result, the decoded trace, the peers'
// observations and the harness's reports.
type Run struct {
	Scenario *Scenario
	Backend  backend.Kind
	Box      *sandbox.Result
	Trace    *trace.Trace
	TraceErr error // the trace could not be decoded (it is untrusted input)
	Obs      *Observations
	Findings []trace.Finding
	Tag      int64 // the run's secret tag: the harness's reports and callbacks carry it

	Answer      string             // what the handler reported, "" if it never did
	AnswerEvent *trace.Event       // the harness's mark of that answer, in Trace
	Never       string             // why there is no answer, if there is none
	Error       string             // how the run ended, if not cleanly (deadlock, panic, stall)
	Harness     string             // why the lab's own harness failed the run, if it did: not the handler's fault
	FDs         int                // descriptors left open by the handler
	FDList      string             // which ones: "7=socket:[123]"
	Values      map[string]float64 // the harness's measurements
}

// Event returns the event of loop with sequence number seq, or nil: the
// moment a lint finding or a mark points at.
func (r *Run) Event(seq uint64, loop uint16) *trace.Event {
	if r.Trace == nil {
		return nil
	}
	for i := range r.Trace.Events {
		if e := &r.Trace.Events[i]; e.Seq == seq && e.Loop == loop {
			return e
		}
	}
	return nil
}

// ByHarness reports whether e, a handler's Begin or a timer event, is the
// harness's own callback or timer (kit.Env.Harness) rather than the
// handler's: it carries the run's tag.
func (r *Run) ByHarness(e *trace.Event) bool {
	return r.Tag != 0 && e.Arg1 == r.Tag && (e.Kind == trace.KindTimer || e.Kind == trace.KindHandler && e.Phase == trace.PhaseBegin)
}

// Where names the run for messages: "closed-port on epoll", "listener on
// io_uring".
func (r *Run) Where() string { return r.Scenario.Name + " on " + r.Backend.Name() }

// ParseReports fills the harness's reports from the trace marks that carry
// tag. Marks without the tag are the handler's own and are ignored here.
func (r *Run) ParseReports(tag int64) {
	r.Tag = tag
	r.Values = map[string]float64{}
	if r.Trace == nil {
		return
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Kind != trace.KindMark || e.Arg1 != tag {
			continue
		}
		s := r.Trace.Name(e.Name)
		switch {
		case strings.HasPrefix(s, report.Result):
			r.Answer = strings.TrimPrefix(s, report.Result)
			r.AnswerEvent = e
		case strings.HasPrefix(s, report.Never):
			r.Never = strings.TrimPrefix(s, report.Never)
		case strings.HasPrefix(s, report.Harness):
			r.Harness = strings.TrimPrefix(s, report.Harness)
		case strings.HasPrefix(s, report.Error):
			r.Error = strings.TrimPrefix(s, report.Error)
		case strings.HasPrefix(s, report.FDs):
			n, list, _ := strings.Cut(strings.TrimPrefix(s, report.FDs), " ")
			r.FDs, _ = strconv.Atoi(n)
			r.FDList = list
		case strings.HasPrefix(s, report.Value):
			k, v, ok := strings.Cut(strings.TrimPrefix(s, report.Value), "=")
			if f, err := strconv.ParseFloat(v, 64); ok && err == nil {
				r.Values[k] = f
			}
		}
	}
}

// Check is one graded property of a handler, worth Points.
type Check struct {
	ID     string
	Title  string
	Points int
	Hint   string // what to think about when it fails
	// Reached, if set, says whether a run attempted what the check grades:
	// "" when it did, otherwise why not ("no connect was started"). A check
	// is evaluated over the runs that reached it only; when none did, it is
	// "not reached" and earns nothing, so that a handler that does nothing
	// never scores for what it did not do.
	Reached func(r *Run) string
	// Eval looks at the runs and decides. A failure names what happened
	// and, where it can, the moment in the trace.
	Eval func(runs []*Run) Outcome
}

// Status is a check's state in a result.
type Status string

// The statuses of a check. Only StatusPassed earns points.
const (
	StatusPassed       Status = "passed"
	StatusFailed       Status = "failed"
	StatusNotReached   Status = "not-reached"   // nothing the check grades was attempted
	StatusNotEvaluated Status = "not-evaluated" // a run ended too early, or its trace is incomplete
)

// Outcome is a check's decision.
type Outcome struct {
	Status  Status
	Message string
	Ref     *Ref
	// Starved says a failure rests on a stretch of the run the machine
	// kept off the CPU: a callback whose thread waited for a CPU about as
	// long as it slept. In a starved box the Go runtime's own waits (a
	// thread to start a goroutine on, a locked goroutine handed back) are
	// sleeps the kernel cannot tell from a channel receive, so such a
	// failure says more about the machine than about the handler: the
	// grader runs the run again (Ref says which) before it judges.
	Starved bool
}

// Passed reports whether the check passed.
func (o Outcome) Passed() bool { return o.Status == StatusPassed }

// Ref points at a moment in one run's trace.
type Ref struct {
	Scenario string       `json:"scenario"`
	Backend  backend.Kind `json:"backend"`
	Time     int64        `json:"time_ns"`
	Seq      uint64       `json:"seq"`
	Op       uint64       `json:"op,omitempty"`
	Loop     uint16       `json:"loop"`
}

// Pass is a passing outcome.
func Pass() Outcome { return Outcome{Status: StatusPassed} }

// Fail is a failing outcome with a message about run r, pointing at e when
// e is not nil, and otherwise at the run's last event.
func Fail(r *Run, e *trace.Event, format string, a ...any) Outcome {
	o := Outcome{Status: StatusFailed, Message: fmt.Sprintf("%s: %s", r.Where(), fmt.Sprintf(format, a...))}
	if e != nil {
		o.Ref = &Ref{Scenario: r.Scenario.Name, Backend: r.Backend, Time: e.Time, Seq: e.Seq, Op: e.Op, Loop: e.Loop}
	} else if r.Trace != nil && len(r.Trace.Events) > 0 {
		last := r.Trace.Events[len(r.Trace.Events)-1]
		o.Ref = &Ref{Scenario: r.Scenario.Name, Backend: r.Backend, Time: last.Time, Seq: last.Seq, Loop: last.Loop}
	}
	return o
}

// PassNote is a passing outcome with a note for the student about run r,
// pointing at e: the answer is right, but there is a better way.
func PassNote(r *Run, e *trace.Event, format string, a ...any) Outcome {
	o := Fail(r, e, format, a...)
	o.Status = StatusPassed
	return o
}

// NotEvaluated is the outcome of a check that could not be decided from
// run r, saying why.
func NotEvaluated(r *Run, format string, a ...any) Outcome {
	o := Fail(r, nil, format, a...)
	o.Status = StatusNotEvaluated
	return o
}

// TraceCut reports whether r was stopped at its exercise's trace cap: what
// the handler did after the cut, its answer too, is not known, so a check
// that needs it is not evaluated rather than failed.
func (r *Run) TraceCut() bool { return r.Box != nil && r.Box.TraceCut }

// Incomplete says why run r cannot support a passing verdict: it ended
// before the handler's work was done, or its trace is not whole. It is ""
// for a run that ended normally with a whole trace.
func (r *Run) Incomplete() string {
	switch {
	case r.Box != nil && r.Box.TraceCut:
		return "its trace was cut at the exercise's cap and the run stopped there, so what came after is not known"
	case r.Box != nil && r.Box.Verdict != sandbox.VerdictOK:
		return fmt.Sprintf("the run was stopped (%s: %s)", r.Box.Verdict, r.Box.Reason)
	case r.Harness != "":
		return "the lab's harness failed: " + r.Harness
	case r.Error != "":
		return "the run ended early: " + r.Error
	case r.Trace == nil:
		return "the run left no trace"
	case r.TraceErr != nil:
		return "its trace is damaged: " + r.TraceErr.Error()
	case r.Trace.Dropped > 0:
		return fmt.Sprintf("%d trace events were dropped, so the trace is not whole", r.Trace.Dropped)
	}
	return ""
}

// Evaluate decides check c over runs: over the runs that reached it, and
// "not reached" when none did. A pass that rests on a run that ended early
// or lost part of its trace is "not evaluated": the lab never shows a pass
// it could not see. A check that panics on hostile or truncated runs is
// "not evaluated" too, with the reason.
func (c Check) Evaluate(runs []*Run) (o Outcome) {
	reached := runs
	if c.Reached != nil {
		reached = nil
		var why string
		var first *Run
		for _, r := range runs {
			// A run cut short may not show the attempt it made: it is
			// evaluated, and can then fail or be "not evaluated", but is
			// never skipped as if nothing was tried.
			w := c.Reached(r)
			if w == "" || r.Incomplete() != "" {
				reached = append(reached, r)
			} else if first == nil {
				first, why = r, w
			}
		}
		if len(reached) == 0 {
			if first == nil {
				return Outcome{Status: StatusNotReached, Message: "no run reached this check"}
			}
			o := NotEvaluated(first, "%s", why)
			o.Status = StatusNotReached
			return o
		}
	}
	defer func() {
		if v := recover(); v != nil {
			o = Outcome{Status: StatusNotEvaluated, Message: fmt.Sprintf("the check could not read this run (%v)", v)}
		}
	}()
	o = c.Eval(reached)
	if o.Status == "" {
		o.Status = StatusFailed
	}
	if o.Passed() {
		for _, r := range reached {
			if why := r.Incomplete(); why != "" {
				return NotEvaluated(r, "%s", why)
			}
		}
	}
	return o
}

// FailOnFinding fails at the first of findings whose code is one of
// codes, pointing at the event it is about and saying its sentence. found
// is false when there is none.
func FailOnFinding(r *Run, findings []trace.Finding, codes ...trace.LintCode) (o Outcome, found bool) {
	for _, f := range findings {
		if slices.Contains(codes, f.Code) {
			return Fail(r, r.Event(f.Seq, f.Loop), "%s", f.Message), true
		}
	}
	return Outcome{}, false
}

// FailOnLongHandler fails at r's first long-handler finding, as
// [FailOnFinding] does, and marks the failure Starved when the callback
// it names spent most of its length asleep: neither on a CPU nor waiting
// for one, in no call the trace shows blocking. A handler that sleeps or
// waits in a callback fails again on every try; a callback that the
// machine itself put to sleep does not. (Once, beside a full CI run, a
// callback that only set a flag took 157 ms, with no CPU time or run
// delay to show for it.)
func FailOnLongHandler(r *Run) (o Outcome, found bool) {
	for _, f := range r.Findings {
		if f.Code != trace.LintLongHandler {
			continue
		}
		begin := r.Event(f.Seq, f.Loop)
		o = Fail(r, begin, "%s", f.Message)
		if end := r.handlerEnd(begin); end != nil && end.Arg0 >= 0 && end.Arg1 >= 0 {
			asleep := end.Dur - end.Arg0 - end.Arg1
			o.Starved = 2*asleep > end.Dur
		}
		return o, true
	}
	return Outcome{}, false
}

// handlerEnd returns the End of the callback that begins with begin, or
// nil if it never ended or the loop did not measure it (Arg0 and Arg1 are
// then 0).
func (r *Run) handlerEnd(begin *trace.Event) *trace.Event {
	if begin == nil || begin.Kind != trace.KindHandler || begin.Phase != trace.PhaseBegin {
		return nil
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Loop == begin.Loop && e.Seq > begin.Seq && e.Kind == trace.KindHandler {
			if e.Phase == trace.PhaseEnd && e.Time-e.Dur == begin.Time && (e.Arg0 != 0 || e.Arg1 != 0) {
				return e
			}
			return nil
		}
	}
	return nil
}

// EachRun makes a check that passes when eval passes on every run, and
// otherwise reports the first failure. A pass keeps the first note a run's
// pass carried.
//
// A failure outranks a run that could not be judged: the first failed run
// is reported if there is one, else the first run not evaluated.
func EachRun(eval func(r *Run) Outcome) func([]*Run) Outcome {
	return func(runs []*Run) Outcome {
		pass := Pass()
		var undecided *Outcome
		for _, r := range runs {
			o := eval(r)
			switch {
			case o.Status == StatusNotEvaluated:
				if undecided == nil {
					undecided = &o
				}
			case !o.Passed():
				return o
			case pass.Message == "" && o.Message != "":
				pass = o
			}
		}
		if undecided != nil {
			return *undecided
		}
		return pass
	}
}

// DefaultTraceCap is the trace cap of an exercise that sets no
// Limits.Trace. The reference handlers' largest trace is 3.8 MB (batching,
// one event per NOP); the caps of the catalog and why are in
// docs/grading.md. The cap bounds what a run's trace costs the server:
// the decoded events its checks read take about twice the cap at most,
// the raw bytes none (they are spooled to a file).
const DefaultTraceCap = 8 << 20

// TraceCap returns the most trace bytes one run of ex may record:
// Limits.Trace, or DefaultTraceCap when it is zero.
func (ex *Exercise) TraceCap() int64 {
	if ex.Limits.Trace > 0 {
		return ex.Limits.Trace
	}
	return DefaultTraceCap
}

// MaxScore is the sum of the checks' points.
func (ex *Exercise) MaxScore() int {
	n := 0
	for _, c := range ex.Checks {
		n += c.Points
	}
	return n
}

// Harness returns the main.go the builder compiles with a submission.
func (ex *Exercise) Harness() []byte {
	return []byte(fmt.Sprintf(`package main

import (
	child %q

	"submission/handler"
)

func main() { child.Main(handler.%s) }
`, ex.Child, ex.Entry))
}

// Validate reports whether the exercise is internally consistent: every
// variant names checks that exist, ids are unique, and so on.
func (ex *Exercise) Validate() error {
	ids := map[string]bool{}
	for _, c := range ex.Checks {
		if c.ID == "" || ids[c.ID] || c.Eval == nil {
			return fmt.Errorf("exercise %s: check %q is unnamed, duplicated or has no Eval", ex.Slug, c.ID)
		}
		ids[c.ID] = true
	}
	for _, v := range ex.Variants {
		if len(v.Fails) == 0 {
			return fmt.Errorf("exercise %s: variant %s fails no check", ex.Slug, v.Name)
		}
		for _, id := range v.Fails {
			if !ids[id] {
				return fmt.Errorf("exercise %s: variant %s names unknown check %q", ex.Slug, v.Name, id)
			}
		}
	}
	if len(ex.Scenarios) == 0 || len(ex.Backends) == 0 || ex.Entry == "" || ex.Child == "" {
		return fmt.Errorf("exercise %s: needs scenarios, backends, an entry and a child", ex.Slug)
	}
	if !slices.IsSortedFunc(ex.Backends, func(a, b backend.Kind) int { return strings.Compare(string(a), string(b)) }) {
		return fmt.Errorf("exercise %s: list backends as epoll, uring", ex.Slug)
	}
	if ex.Predict == nil {
		return fmt.Errorf("exercise %s: every exercise asks for a prediction before the first run", ex.Slug)
	}
	if err := ex.Predict.Validate(); err != nil {
		return fmt.Errorf("exercise %s: %w", ex.Slug, err)
	}
	return nil
}
