// Package grading builds a submission once, runs it in the sandbox once per
// scenario and backend, decodes each trace as untrusted input, evaluates
// the exercise's checks, and produces a result a student can act on.
package grading

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/report"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
)

// Verdict is how a grading ended.
type Verdict string

// The verdicts.
const (
	Passed        Verdict = "passed"
	Failed        Verdict = "failed"
	CompileError  Verdict = "compile-error"
	TimeLimit     Verdict = "time-limit"
	MemoryLimit   Verdict = "memory-limit"
	OutputLimit   Verdict = "output-limit"
	RuntimeError  Verdict = "runtime-error"
	Killed        Verdict = "killed"
	InternalError Verdict = "internal-error"
	// Ran is the verdict of [Grader.Run] when every run ended normally: no
	// check was evaluated.
	Ran Verdict = "ran"
)

// Config configures a [Grader].
type Config struct {
	Builder  *builder.Builder
	Parallel int // sandboxed runs at once; default 4
	// SpoolDir is where each run's trace is spooled, in an unlinked file,
	// on its way to the decoder and the store; "" is the system's
	// temporary directory. It holds at most Parallel times an exercise's
	// trace cap of files being written, plus the recordings of results
	// not yet closed.
	SpoolDir string
	Logger   *slog.Logger
	Now      func() time.Time
}

// Grader grades submissions. It is safe for concurrent use.
type Grader struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{} // sandboxed runs at once, across every submission
}

// New returns a grader.
func New(cfg Config) (*Grader, error) {
	if cfg.Builder == nil {
		return nil, errors.New("grading: Config.Builder is required")
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Grader{cfg: cfg, log: cfg.Logger.With("subsystem", "grading"), slots: make(chan struct{}, cfg.Parallel)}, nil
}

// Submission is what to grade.
type Submission struct {
	ID        string // the result's id; default a new one (see [labs.NewRunID])
	Exercise  *exercises.Exercise
	Files     []builder.File
	Backends  []backend.Kind // default: every backend the exercise declares
	Scenarios []string       // default: every scenario
	// Predicted is the student's answer to the exercise's prediction,
	// checked against its form, or nil.
	Predicted *exercises.Answer
	// Observer, if set, is told what happens as it happens.
	Observer Observer
}

// Observer watches a grading live. Its methods are called from the
// grader's goroutines, for different tracks at once; they must return
// quickly and never block, since a sandboxed run's trace waits on them.
type Observer interface {
	// Phase is called as each phase starts.
	Phase(p Phase)
	// TrackStart is called as the sandboxed run of one scenario on one
	// backend starts; track is "scenario-backend".
	TrackStart(track, scenario string, backend backend.Kind)
	// TraceBatch is called with each frame of the track's trace, decoded,
	// in order, while the handler runs.
	TraceBatch(track string, b trace.Batch)
	// TrackEnd is called when the run has ended and its trace is
	// analyzed.
	TrackEnd(track string, run *exercises.Run, sum RunSummary)
	// TrackReset is called before a track's run is run again (see
	// [exercises.Outcome.Starved]): what was shown of it is replaced by
	// the new run, from its TrackStart on. why says why, for the user.
	TrackReset(track, why string)
}

// Track names the run of one scenario on one backend.
func Track(scenario string, backend backend.Kind) string { return scenario + "-" + string(backend) }

// Phase is a step of grading and when it started.
type Phase struct {
	Name string    `json:"name"` // building, waiting (for a sandbox), running, checking, done; a server's queue adds queued before them
	At   time.Time `json:"at"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	ID      string           `json:"id"`
	Title   string           `json:"title"`
	Points  int              `json:"points"`
	Max     int              `json:"max"`
	Passed  bool             `json:"passed"`
	Status  exercises.Status `json:"status"` // passed, failed, not-reached or not-evaluated
	Message string           `json:"message,omitempty"`
	Hint    string           `json:"hint,omitempty"`
	Ref     *exercises.Ref   `json:"ref,omitempty"`

	starved bool // a failure on a starved stretch of the run Ref names
}

// RunSummary is one sandboxed run, for the result.
type RunSummary struct {
	Scenario   string          `json:"scenario"`
	Backend    backend.Kind    `json:"backend"`
	Verdict    sandbox.Verdict `json:"box_verdict"`
	Reason     string          `json:"reason,omitempty"`
	Answer     string          `json:"answer,omitempty"`
	Error      string          `json:"error,omitempty"`
	Wall       time.Duration   `json:"wall_ns"`
	CPU        time.Duration   `json:"cpu_ns"`
	PeakMemory int64           `json:"peak_memory"`
	Events     int             `json:"events"`
	Dropped    uint64          `json:"dropped"`
	Track      string          `json:"track"`                 // scenario-backend
	TraceError string          `json:"trace_error,omitempty"` // what was wrong with the trace the box sent
	// TraceBytes is how much trace the handler wrote, and TraceCut, when
	// it is more than the exercise keeps, says so to the student: the
	// trace was cut there and the run stopped.
	TraceBytes int64  `json:"trace_bytes"`
	TraceCut   string `json:"trace_cut,omitempty"`
	// Findings are the trace analysis's findings, made once with the
	// exercise's lint options; replays show these.
	Findings []trace.Finding `json:"findings,omitempty"`
	// Stderr is the head of what the program wrote to stderr (a panic's
	// message, the handler's own prints), and StderrTail its last lines
	// when there was more.
	Stderr     string `json:"stderr,omitempty"`
	StderrTail string `json:"stderr_tail,omitempty"`
	Stdout     string `json:"stdout,omitempty"`
	// Tries is how many times the run was run, when more than once: a
	// failure that rested on a starved stretch of it was not judged, and
	// it was run again (see [exercises.Outcome.Starved]).
	Tries int `json:"tries,omitempty"`
}

// Result is a graded submission.
type Result struct {
	ID       string            `json:"id"`
	Exercise string            `json:"exercise"`
	Verdict  Verdict           `json:"verdict"`
	Message  string            `json:"message"`
	Score    int               `json:"score"`
	Max      int               `json:"max"`
	Checks   []CheckResult     `json:"checks"`
	Problems []builder.Problem `json:"problems,omitempty"`
	Phases   []Phase           `json:"phases"`
	Runs     []RunSummary      `json:"runs"`
	Build    time.Duration     `json:"build_ns"`
	// Prediction is the student's prediction next to the real answer; nil
	// when the exercise asks for none or the handler never ran.
	Prediction *Prediction `json:"prediction,omitempty"`

	runs  []*exercises.Run
	recs  []*spool // the raw trace of each of runs
	cap   int64    // the exercise's trace cap
	close sync.Once
}

// RunDetails returns the runs behind the result, with their decoded traces.
func (r *Result) RunDetails() []*exercises.Run { return r.runs }

// Recording is one track's raw trace as the box wrote it, at most the
// exercise's trace cap: what a store keeps for replays and exports. It is
// read from a temporary file, so holding it costs the server no memory.
type Recording struct {
	Track string // scenario-backend
	Size  int64
	sp    *spool
}

// Open returns a reader of the whole recording from its start. Readers
// are independent; they fail once the result is closed.
func (r Recording) Open() io.Reader { return io.NewSectionReader(r.sp.f, 0, r.Size) }

// Recordings returns the raw trace of every run of the result, in the
// order of Runs, for storing. They are valid until [Result.Close].
func (r *Result) Recordings() []Recording {
	out := make([]Recording, 0, len(r.recs))
	for i, sp := range r.recs {
		out = append(out, Recording{Track: r.Runs[i].Track, Size: sp.len(), sp: sp})
	}
	return out
}

// Close releases the result's recordings. The decoded runs stay readable.
// It is safe to call more than once, and on a nil result.
func (r *Result) Close() error {
	if r == nil {
		return nil
	}
	var errs []error
	r.close.Do(func() {
		for _, sp := range r.recs {
			errs = append(errs, sp.release())
		}
	})
	return errors.Join(errs...)
}

// Slots reports how many sandboxed runs are going now, of the most that
// may run at once.
func (g *Grader) Slots() (busy, total int) { return len(g.slots), cap(g.slots) }

// takeSlot waits for one of the grader's sandbox slots; freeSlot gives it
// back.
func (g *Grader) takeSlot(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a sandbox: %w", ctx.Err())
	}
}

func (g *Grader) freeSlot() { <-g.slots }

// Grade builds and runs the submission and evaluates every check.
func (g *Grader) Grade(ctx context.Context, sub Submission) (*Result, error) {
	return g.run(ctx, sub, g.check)
}

// starvedTries is how many times a run is run at most while its failures
// rest on starved stretches of it.
const starvedTries = 3

// check evaluates the checks over res's runs, running again, up to
// starvedTries times in all, each run a failure rests on a starved
// stretch of (see [exercises.Outcome.Starved]), then scores the result.
// binary is the built handler, still there.
func (g *Grader) check(ctx context.Context, sub Submission, res *Result, binary string) error {
	g.phase(res, sub, "checking")
	res.Checks = Evaluate(sub.Exercise, res.runs)
	for again := starvedRuns(res); len(again) > 0; again = starvedRuns(res) {
		if err := g.runAgain(ctx, sub, res, again, binary); err != nil {
			return err
		}
		if v, _ := boxVerdict(res); v == InternalError {
			break
		}
		res.Checks = Evaluate(sub.Exercise, res.runs)
	}
	res.Max = sub.Exercise.MaxScore()
	for _, c := range res.Checks {
		res.Score += c.Points
	}
	res.Verdict, res.Message = verdict(res)
	g.phase(res, sub, "done")
	return nil
}

// starvedRuns returns the indexes of res's runs that a failed check's
// starved failure points at, and that have been tried fewer than
// starvedTries times.
func starvedRuns(res *Result) []int {
	var out []int
	for _, c := range res.Checks {
		if !c.starved || c.Ref == nil {
			continue
		}
		for i, r := range res.runs {
			if r.Scenario.Name == c.Ref.Scenario && r.Backend == c.Ref.Backend &&
				max(1, res.Runs[i].Tries) < starvedTries && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out
}

// runAgain runs res's runs at idx again, each in place of the last try,
// whose recording it releases, and tells the observer.
func (g *Grader) runAgain(ctx context.Context, sub Submission, res *Result, idx []int, binary string) error {
	for _, i := range idx {
		old, tries := res.runs[i], max(1, res.Runs[i].Tries)+1
		track := Track(old.Scenario.Name, old.Backend)
		if sub.Observer != nil {
			sub.Observer.TrackReset(track, fmt.Sprintf(
				"%s ran again (try %d of %d): a check failed on a stretch the grading machine kept it off the CPU, which would judge the machine, not your handler",
				old.Where(), tries, starvedTries))
		}
		r := &exercises.Run{Scenario: old.Scenario, Backend: old.Backend, Obs: &exercises.Observations{}}
		if err := g.takeSlot(ctx); err != nil {
			return fmt.Errorf("run %s again: %w", r.Where(), err)
		}
		sp, err := g.runOne(ctx, sub, r, binary)
		g.freeSlot()
		if err != nil {
			return fmt.Errorf("run %s again: %w", r.Where(), err)
		}
		res.recs[i].release()
		res.runs[i], res.recs[i] = r, sp
		res.Runs[i] = summarize(r, res.cap)
		res.Runs[i].Tries = tries
	}
	return nil
}

// Evaluate runs every check of ex over runs (see [exercises.Check.Evaluate]).
// Only a passed check earns its points.
func Evaluate(ex *exercises.Exercise, runs []*exercises.Run) []CheckResult {
	out := make([]CheckResult, 0, len(ex.Checks))
	for _, c := range ex.Checks {
		o := c.Evaluate(runs)
		cr := CheckResult{ID: c.ID, Title: c.Title, Max: c.Points, Passed: o.Passed(), Status: o.Status, Message: o.Message, Ref: o.Ref,
			starved: o.Starved && o.Status == exercises.StatusFailed}
		if o.Passed() {
			cr.Points = c.Points
		} else if o.Status == exercises.StatusFailed {
			cr.Hint = c.Hint
		}
		out = append(out, cr)
	}
	return out
}

func verdict(res *Result) (Verdict, string) {
	if v, m := boxVerdict(res); v != "" {
		return v, m
	}
	if res.Score == res.Max {
		return Passed, fmt.Sprintf("every check passed: %d/%d", res.Score, res.Max)
	}
	n := map[exercises.Status]int{}
	for _, c := range res.Checks {
		n[c.Status]++
	}
	var parts []string
	if n[exercises.StatusFailed] > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d checks failed", n[exercises.StatusFailed], len(res.Checks)))
	}
	if n[exercises.StatusNotReached] > 0 {
		parts = append(parts, fmt.Sprintf("%d not reached", n[exercises.StatusNotReached]))
	}
	if n[exercises.StatusNotEvaluated] > 0 {
		parts = append(parts, fmt.Sprintf("%d could not be evaluated", n[exercises.StatusNotEvaluated]))
	}
	return Failed, fmt.Sprintf("%s: %d/%d", strings.Join(parts, ", "), res.Score, res.Max)
}

// boxVerdict is the verdict of the first run the sandbox ended badly, or
// "" when every run ended normally.
func boxVerdict(res *Result) (Verdict, string) {
	for _, r := range res.runs {
		where := r.Where()
		if r.Harness != "" {
			return InternalError, fmt.Sprintf("the grader failed on %s (%s); this is not your fault, try again", where, r.Harness)
		}
		if r.Box.TraceCut && r.Box.Verdict == sandbox.VerdictOutputLimit {
			return OutputLimit, fmt.Sprintf("%s: %s", where, traceCut(res.cap))
		}
		switch r.Box.Verdict {
		case sandbox.VerdictTimeLimit:
			return TimeLimit, fmt.Sprintf("%s: the handler ran out of time: %s", where, r.Box.Reason)
		case sandbox.VerdictMemoryLimit:
			return MemoryLimit, fmt.Sprintf("%s: the handler used more memory than allowed", where)
		case sandbox.VerdictOutputLimit:
			return OutputLimit, fmt.Sprintf("%s: the handler wrote too much output", where)
		case sandbox.VerdictKilled:
			return Killed, fmt.Sprintf("%s: the sandbox stopped the handler: %s", where, r.Box.Reason)
		case sandbox.VerdictRuntimeError:
			return RuntimeError, fmt.Sprintf("%s: the program failed: %s", where, r.Box.Reason)
		case sandbox.VerdictInternalError:
			return InternalError, "the grader failed; this is not your fault, try again"
		}
	}
	return "", ""
}

func (g *Grader) phase(res *Result, sub Submission, name string) {
	p := Phase{Name: name, At: g.cfg.Now()}
	res.Phases = append(res.Phases, p)
	if sub.Observer != nil {
		sub.Observer.Phase(p)
	}
}

// Run builds the submission and runs it in every scenario on every backend,
// without evaluating the checks: what `lab run` shows.
func (g *Grader) Run(ctx context.Context, sub Submission) (*Result, error) {
	return g.run(ctx, sub, nil)
}

// run builds the submission and runs it in every scenario on every
// backend, then, if judge is set and the runs ended so that they can be
// judged, judges them while the built handler is still there.
func (g *Grader) run(ctx context.Context, sub Submission, judge func(context.Context, Submission, *Result, string) error) (*Result, error) {
	ex := sub.Exercise
	res := &Result{ID: sub.ID, Exercise: ex.Slug, Max: ex.MaxScore(), cap: ex.TraceCap()}
	if res.ID == "" {
		res.ID = labs.NewRunID(g.cfg.Now())
	}
	g.phase(res, sub, "building")
	b, err := g.cfg.Builder.Build(ctx, builder.Request{Files: sub.Files, Harness: ex.Harness(), Policy: builder.DefaultPolicy("handler")})
	if err != nil {
		res.Verdict, res.Message = InternalError, "the build could not run; this is not your fault, try again"
		return res, fmt.Errorf("grade %s: %w", ex.Slug, err)
	}
	defer b.Cleanup()
	res.Build = b.Wall
	if !b.OK() {
		res.Verdict, res.Problems = CompileError, b.Problems
		res.Message = fmt.Sprintf("the handler does not compile (%d problems); the first: %s", len(b.Problems), b.Problems[0])
		if strings.Contains(b.Log, "main.go") && !strings.Contains(b.Log, "handler/") {
			res.Problems = []builder.Problem{{File: "handler.go",
				Msg: fmt.Sprintf("the harness cannot call your handler: it must be declared as %s", ex.Signature)}}
			res.Message = res.Problems[0].Msg
		}
		res.Prediction = predict(ex, sub.Predicted, nil)
		g.phase(res, sub, "done")
		return res, nil
	}
	// Waiting for a sandbox, then running once the first one is free.
	g.phase(res, sub, "waiting")
	runs, recs, err := g.runAll(ctx, sub, b.Binary, func() { g.phase(res, sub, "running") })
	if err != nil {
		res.Verdict, res.Message = InternalError, "the sandbox failed; this is not your fault, try again"
		return res, err
	}
	res.runs, res.recs = runs, recs
	for _, r := range runs {
		res.Runs = append(res.Runs, summarize(r, res.cap))
	}
	res.Verdict, res.Message = boxVerdict(res)
	if judge != nil && res.Verdict != InternalError {
		if err := judge(ctx, sub, res, b.Binary); err != nil {
			res.Verdict, res.Message = InternalError, "the sandbox failed; this is not your fault, try again"
			return res, err
		}
		res.Prediction = predict(ex, sub.Predicted, res.runs)
		return res, nil
	}
	res.Prediction = predict(ex, sub.Predicted, res.runs)
	if res.Verdict == "" {
		res.Verdict, res.Message = Ran, fmt.Sprintf("ran %d time(s); submit to have it graded", len(runs))
	}
	return res, nil
}

func summarize(r *exercises.Run, traceCap int64) RunSummary {
	s := RunSummary{Scenario: r.Scenario.Name, Backend: r.Backend, Verdict: r.Box.Verdict, Reason: r.Box.Reason,
		Answer: r.Answer, Error: r.Error, Wall: r.Box.Wall, CPU: r.Box.CPU, PeakMemory: r.Box.PeakMemory,
		Track: Track(r.Scenario.Name, r.Backend), TraceBytes: r.Box.TraceBytes}
	if r.Box.TraceCut {
		s.TraceCut = traceCut(traceCap)
	}
	if r.Trace != nil {
		s.Events, s.Dropped = len(r.Trace.Events), r.Trace.Dropped
	}
	if r.TraceErr != nil {
		s.TraceError = r.TraceErr.Error()
	}
	s.Findings = r.Findings
	s.Stdout = string(clip(r.Box.Stdout, outputShown))
	s.Stderr = string(clip(r.Box.StderrHead, outputShown))
	s.StderrTail = string(clip(r.Box.StderrTail, outputShown))
	return s
}

// traceCut says, for the student, that a run's trace passed the cap.
func traceCut(traceCap int64) string {
	return fmt.Sprintf("the trace was cut at %s, the most this exercise records per run: the handler recorded too many events "+
		"(marks or calls in a loop?), so the run was stopped there and the checks that needed the rest were not evaluated",
		sizeString(traceCap))
}

// sizeString prints a byte count for the student: "4 MiB".
func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// runAll runs every scenario and backend, a few at a time, as sandbox
// slots free up; started is called once the first has a slot. It returns
// the runs and the raw trace of each, or releases those on an error.
func (g *Grader) runAll(ctx context.Context, sub Submission, binary string, started func()) ([]*exercises.Run, []*spool, error) {
	ex := sub.Exercise
	backends := sub.Backends
	if len(backends) == 0 {
		backends = ex.Backends
	}
	var runs []*exercises.Run
	for _, sc := range ex.Scenarios {
		if len(sub.Scenarios) > 0 && !contains(sub.Scenarios, sc.Name) {
			continue
		}
		for _, k := range backends {
			runs = append(runs, &exercises.Run{Scenario: &sc, Backend: k, Obs: &exercises.Observations{}})
		}
	}
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("grade %s: no scenario or backend matches", ex.Slug)
	}
	recs := make([]*spool, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		if err := g.takeSlot(ctx); err != nil {
			errs[i] = fmt.Errorf("run %s: %w", r.Where(), err)
			continue
		}
		if i == 0 {
			started()
		}
		wg.Add(1)
		go func() {
			defer func() {
				// A check or decoder tripping over hostile trace bytes must
				// fail this run, not take the server down.
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("run %s: %v", r.Where(), v)
				}
				g.freeSlot()
				wg.Done()
			}()
			recs[i], errs[i] = g.runOne(ctx, sub, r, binary)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, sp := range recs {
			if sp != nil {
				sp.release()
			}
		}
		return nil, nil, err
	}
	return runs, recs, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// runOne runs the binary in one scenario on one backend and decodes what
// came back, live when an observer watches. It returns the run's raw
// trace, spooled; on an error it releases it.
func (g *Grader) runOne(ctx context.Context, sub Submission, r *exercises.Run, binary string) (*spool, error) {
	ex := sub.Exercise
	tag := randomTag()
	timeout := r.Scenario.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	args, _ := json.Marshal(report.Args{Backend: r.Backend, Scenario: r.Scenario.Name, Params: r.Scenario.Params, Tag: tag, Timeout: timeout,
		HandlerCPU: ex.MeasureHandlers})
	limits := ex.Limits
	if limits.Wall == 0 || limits.Wall < timeout+2*time.Second {
		limits.Wall = timeout + 2*time.Second
	}
	limits.Trace = ex.TraceCap()
	spec := sandbox.Spec{
		Path:   "/box/prog",
		Args:   []string{"prog", string(args)},
		Env:    []string{"GOMAXPROCS=2", "GOTRACEBACK=single", "PATH=/box"},
		Binds:  []sandbox.Bind{{Host: filepath.Dir(binary), Inside: "/box"}},
		Limits: limits,
	}
	if peer := r.Scenario.Peer; peer != nil {
		spec.Peers = func(ctx context.Context, ns *sandbox.NetNS) error {
			return peer(ctx, ns, r.Scenario.Params, r.Obs)
		}
	}
	// The trace goes to a file as the sandbox reads it, and is decoded
	// from that file as it grows: neither a slow decoder nor a slow
	// observer holds up the program's trace pipe, and the server holds
	// none of the raw trace in memory.
	sp, err := newSpool(g.cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.Where(), err)
	}
	spec.Trace = sp
	track := Track(r.Scenario.Name, r.Backend)
	obs := sub.Observer
	if obs != nil {
		obs.TrackStart(track, r.Scenario.Name, r.Backend)
	}
	decoded := make(chan decodeResult, 1)
	go func() {
		// This goroutine is outside runAll's recover: a decoder or an
		// observer tripping over hostile trace bytes fails this run's
		// trace, and must not take the server down.
		defer func() {
			if v := recover(); v != nil {
				decoded <- decodeResult{&trace.Trace{Version: trace.Version, Names: []string{""}}, fmt.Errorf("decode the trace: %v", v)}
			}
		}()
		t, err := trace.DecodePartial(sp.follow(), decodeLimits(limits.Trace), func(b trace.Batch) {
			if obs != nil {
				obs.TraceBatch(track, b)
			}
		})
		decoded <- decodeResult{t, err}
	}()
	box, err := func() (*sandbox.Result, error) {
		defer sp.closeWrite()
		return sandbox.Run(ctx, spec)
	}()
	d := <-decoded
	if err != nil {
		sp.release()
		return nil, fmt.Errorf("run %s: %w", r.Where(), err)
	}
	r.Box = box
	if box.PeerErr != nil {
		sp.release()
		return nil, fmt.Errorf("run %s: trusted peer: %w", r.Where(), box.PeerErr)
	}
	r.Trace, r.TraceErr = d.trace, d.err
	r.ParseReports(tag)
	lints := ex.Lints
	lints.Harness = tag // the harness's own callbacks are not the handler's
	r.Findings = trace.Analyze(r.Trace, lints)
	if obs != nil {
		obs.TrackEnd(track, r, summarize(r, limits.Trace))
	}
	return sp, nil
}

type decodeResult struct {
	trace *trace.Trace
	err   error
}

// decodeLimits are the decoder's limits for a trace of at most traceCap
// bytes: no more events than fit in it.
func decodeLimits(traceCap int64) trace.Limits {
	lim := trace.DefaultLimits()
	lim.MaxBytes = traceCap
	lim.MaxEvents = int(min(traceCap/trace.RecordSize+1, int64(lim.MaxEvents)))
	return lim
}

func randomTag() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:])>>1) | 1
}

// outputShown is how much of a run's stdout and of its stderr a result
// keeps for the student: enough for a panic's message and a screen of
// prints, little enough to store with every run.
const outputShown = 4 << 10

// clip returns at most n bytes of b, as valid UTF-8.
func clip(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
}
