// Package grading builds a submission once, runs it in the sandbox once per
// scenario and backend, decodes each trace as untrusted input, evaluates
// the exercise's checks, and produces a result a student can act on.
package grading

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/kit"
	"github.com/asynclab/asynclab/grading/builder"
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
)

// Config configures a [Grader].
type Config struct {
	Dir      string // where results and traces are stored
	Builder  *builder.Builder
	Parallel int // sandboxed runs at once; default 4
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
	if cfg.Dir == "" || cfg.Builder == nil {
		return nil, errors.New("grading: Config.Dir and Config.Builder are required")
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
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "runs"), 0o755); err != nil {
		return nil, fmt.Errorf("grading: %w", err)
	}
	return &Grader{cfg: cfg, log: cfg.Logger.With("subsystem", "grading"), slots: make(chan struct{}, cfg.Parallel)}, nil
}

// Submission is what to grade.
type Submission struct {
	Exercise  *exercises.Exercise
	Files     []builder.File
	Backends  []engine.Kind // default: every backend the exercise declares
	Scenarios []string      // default: every scenario
	// Phase, if set, is told each phase as it starts, for live display.
	Phase func(Phase)
}

// Phase is a step of grading and when it started.
type Phase struct {
	Name string    `json:"name"` // queued, building, running, checking, done
	At   time.Time `json:"at"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Points  int            `json:"points"`
	Max     int            `json:"max"`
	Passed  bool           `json:"passed"`
	Message string         `json:"message,omitempty"`
	Hint    string         `json:"hint,omitempty"`
	Ref     *exercises.Ref `json:"ref,omitempty"`
}

// RunSummary is one sandboxed run, for the result.
type RunSummary struct {
	Scenario   string          `json:"scenario"`
	Backend    engine.Kind     `json:"backend"`
	Verdict    sandbox.Verdict `json:"box_verdict"`
	Reason     string          `json:"reason,omitempty"`
	Answer     string          `json:"answer,omitempty"`
	Error      string          `json:"error,omitempty"`
	Wall       time.Duration   `json:"wall_ns"`
	CPU        time.Duration   `json:"cpu_ns"`
	PeakMemory int64           `json:"peak_memory"`
	Events     int             `json:"events"`
	Dropped    uint64          `json:"dropped"`
	TraceFile  string          `json:"trace_file,omitempty"`
	TraceError string          `json:"trace_error,omitempty"` // what was wrong with the trace the box sent
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
	Dir      string            `json:"-"`

	runs []*exercises.Run
}

// RunDetails returns the runs behind the result, with their decoded traces.
func (r *Result) RunDetails() []*exercises.Run { return r.runs }

// Grade builds and runs the submission and evaluates every check.
func (g *Grader) Grade(ctx context.Context, sub Submission) (*Result, error) {
	res, err := g.Run(ctx, sub)
	if err != nil || res.Verdict == CompileError || res.Verdict == InternalError {
		return res, err
	}
	g.phase(res, sub, "checking")
	res.Checks = Evaluate(sub.Exercise, res.runs)
	res.Max = sub.Exercise.MaxScore()
	for _, c := range res.Checks {
		res.Score += c.Points
	}
	res.Verdict, res.Message = verdict(res)
	g.phase(res, sub, "done")
	return res, g.save(res)
}

// Evaluate runs every check of ex over runs.
func Evaluate(ex *exercises.Exercise, runs []*exercises.Run) []CheckResult {
	out := make([]CheckResult, 0, len(ex.Checks))
	for _, c := range ex.Checks {
		o := safeEval(c, runs)
		cr := CheckResult{ID: c.ID, Title: c.Title, Max: c.Points, Passed: o.Pass, Message: o.Message, Ref: o.Ref}
		if o.Pass {
			cr.Points = c.Points
		} else {
			cr.Hint = c.Hint
		}
		out = append(out, cr)
	}
	return out
}

// safeEval keeps a check that trips over hostile or truncated runs from
// taking the grader down: it fails, with a message.
func safeEval(c exercises.Check, runs []*exercises.Run) (o exercises.Outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = exercises.Outcome{Message: fmt.Sprintf("the check could not read this run (%v)", v)}
		}
	}()
	return c.Eval(runs)
}

func verdict(res *Result) (Verdict, string) {
	for _, r := range res.runs {
		where := r.Where()
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
	if res.Score == res.Max {
		return Passed, fmt.Sprintf("every check passed: %d/%d", res.Score, res.Max)
	}
	failed := 0
	for _, c := range res.Checks {
		if !c.Passed {
			failed++
		}
	}
	return Failed, fmt.Sprintf("%d of %d checks failed: %d/%d", failed, len(res.Checks), res.Score, res.Max)
}

func (g *Grader) phase(res *Result, sub Submission, name string) {
	p := Phase{Name: name, At: g.cfg.Now()}
	res.Phases = append(res.Phases, p)
	if sub.Phase != nil {
		sub.Phase(p)
	}
}

// Run builds the submission and runs it in every scenario on every backend,
// without evaluating the checks: what `lab run` shows.
func (g *Grader) Run(ctx context.Context, sub Submission) (*Result, error) {
	ex := sub.Exercise
	res := &Result{ID: newID(g.cfg.Now()), Exercise: ex.Slug, Max: ex.MaxScore()}
	res.Dir = filepath.Join(g.cfg.Dir, "runs", res.ID)
	g.phase(res, sub, "queued")
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
		g.phase(res, sub, "done")
		return res, g.save(res)
	}
	if err := os.MkdirAll(res.Dir, 0o755); err != nil {
		return res, fmt.Errorf("grade %s: %w", ex.Slug, err)
	}
	g.phase(res, sub, "running")
	runs, err := g.runAll(ctx, sub, b.Binary, res.Dir)
	if err != nil {
		res.Verdict, res.Message = InternalError, "the sandbox failed; this is not your fault, try again"
		return res, err
	}
	res.runs = runs
	for _, r := range runs {
		s := RunSummary{Scenario: r.Scenario.Name, Backend: r.Backend, Verdict: r.Box.Verdict, Reason: r.Box.Reason,
			Answer: r.Answer, Error: r.Error, Wall: r.Box.Wall, CPU: r.Box.CPU, PeakMemory: r.Box.PeakMemory,
			TraceFile: r.Scenario.Name + "-" + string(r.Backend) + ".trace"}
		if r.Trace != nil {
			s.Events, s.Dropped = len(r.Trace.Events), r.Trace.Dropped
		}
		if r.TraceErr != nil {
			s.TraceError = r.TraceErr.Error()
		}
		res.Runs = append(res.Runs, s)
	}
	return res, nil
}

// runAll runs every scenario and backend, a few at a time.
func (g *Grader) runAll(ctx context.Context, sub Submission, binary, dir string) ([]*exercises.Run, error) {
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
		return nil, fmt.Errorf("grade %s: no scenario or backend matches", ex.Slug)
	}
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		g.slots <- struct{}{}
		go func() {
			defer func() {
				// A check or decoder tripping over hostile trace bytes must
				// fail this run, not take the server down.
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("run %s: %v", r.Where(), v)
				}
				<-g.slots
				wg.Done()
			}()
			errs[i] = g.runOne(ctx, ex, r, binary, dir)
		}()
	}
	wg.Wait()
	return runs, errors.Join(errs...)
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
// came back.
func (g *Grader) runOne(ctx context.Context, ex *exercises.Exercise, r *exercises.Run, binary, dir string) error {
	tag := randomTag()
	timeout := r.Scenario.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	args, _ := json.Marshal(kit.Args{Backend: r.Backend, Scenario: r.Scenario.Name, Params: r.Scenario.Params, Tag: tag, Timeout: timeout})
	limits := ex.Limits
	if limits.Wall == 0 || limits.Wall < timeout+2*time.Second {
		limits.Wall = timeout + 2*time.Second
	}
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
	box, err := sandbox.Run(ctx, spec)
	if err != nil {
		return fmt.Errorf("run %s: %w", r.Where(), err)
	}
	r.Box = box
	if box.PeerErr != nil {
		return fmt.Errorf("run %s: trusted peer: %w", r.Where(), box.PeerErr)
	}
	r.Trace, r.TraceErr = decodePartial(box.Trace)
	r.ParseReports(tag)
	r.Findings = trace.Analyze(r.Trace, trace.LintOptions{})
	name := r.Scenario.Name + "-" + string(r.Backend) + ".trace"
	if err := os.WriteFile(filepath.Join(dir, name), box.Trace, 0o644); err != nil {
		return fmt.Errorf("store trace: %w", err)
	}
	return nil
}

// decodePartial decodes as much of an untrusted trace as is well formed. A
// run killed mid-stream leaves a trace without its end frame; what came
// before is still worth showing.
func decodePartial(b []byte) (*trace.Trace, error) {
	d := trace.NewDecoder(bytes.NewReader(b), trace.DefaultLimits())
	t := &trace.Trace{Version: trace.Version, Names: []string{""}}
	for {
		batch, err := d.Next()
		if err != nil {
			return t, err
		}
		if len(batch.Names) > 0 {
			t.Names = append(t.Names[:batch.FirstName], batch.Names...)
		}
		t.Events = append(t.Events, batch.Events...)
		if batch.Dropped > t.Dropped {
			t.Dropped = batch.Dropped
		}
		if batch.End {
			return t, nil
		}
	}
}

func (g *Grader) save(res *Result) error {
	if err := os.MkdirAll(res.Dir, 0o755); err != nil {
		return fmt.Errorf("save result: %w", err)
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("save result: %w", err)
	}
	return os.WriteFile(filepath.Join(res.Dir, "result.json"), data, 0o644)
}

var (
	idPattern    = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$`)
	tracePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,60}-(epoll|uring)\.trace$`)
)

// OpenTrace opens the stored trace file of a graded run. id and file come
// from a URL, so they are checked against the only shapes the grader
// writes; anything else is not found.
func (g *Grader) OpenTrace(id, file string) (io.ReadCloser, error) {
	if !idPattern.MatchString(id) || !tracePattern.MatchString(file) {
		return nil, fmt.Errorf("open trace %q/%q: %w", id, file, os.ErrNotExist)
	}
	f, err := os.Open(filepath.Join(g.cfg.Dir, "runs", id, file))
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	return f, nil
}

func newID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%x", now.UTC().Format("20060102-150405"), b)
}

func randomTag() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:])>>1) | 1
}
