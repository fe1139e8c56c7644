package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/web/live"
)

// referenceClient is the client of the runs of an exercise's reference
// solution, which students compare their runs with. A browser's id is 32
// hex digits, so it cannot collide; the code of these runs is never shown.
const referenceClient = "reference"

// runner grades runs in the background, streams each one live through the
// hub, and records it in the store. A run is in the store before anyone is
// told its id, and is finished there (or resumed after a restart) whatever
// happens to the browser that asked for it.
type runner struct {
	store     labs.RunStore
	hub       *live.Hub
	exercises map[string]*exercises.Exercise
	log       *slog.Logger
	now       func() time.Time

	ctx    context.Context // the server's life; runs outlive requests
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	active map[string]bool // runs being graded, so none is graded twice
	closed bool
}

func newRunner(store labs.RunStore, exs []*exercises.Exercise, log *slog.Logger, now func() time.Time) *runner {
	x := &runner{store: store, hub: live.NewHub(10*time.Minute, 256<<20),
		exercises: make(map[string]*exercises.Exercise), log: log, now: now, active: make(map[string]bool)}
	for _, ex := range exs {
		x.exercises[ex.Slug] = ex
	}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	return x
}

// close stops the runs in progress and waits for them. They stay
// unfinished in the store, so the next server resumes them.
func (x *runner) close() {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	x.wg.Wait()
}

// start records run as queued and grades it in the background.
func (x *runner) start(ctx context.Context, g Grader, run *labs.Run) error {
	ex := x.exercises[run.Exercise]
	if ex == nil {
		return fmt.Errorf("start run: no exercise %q", run.Exercise)
	}
	if err := x.store.CreateRun(ctx, run); err != nil {
		return fmt.Errorf("start run: %w", err)
	}
	x.launch(g, ex, run, false)
	return nil
}

// launch streams and grades a stored, unfinished run, unless it is being
// graded already or the server is stopping. again marks a run graded
// again after a restart: a browser may hold seqs of its first stream.
func (x *runner) launch(g Grader, ex *exercises.Exercise, run *labs.Run, again bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed || x.active[run.ID] {
		return
	}
	x.active[run.ID] = true
	s := live.NewStream(run.ID, again)
	s.Send(live.HelloMsg(run.ID, run.Exercise, string(run.Mode), true))
	x.hub.Add(s)
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		defer func() {
			x.mu.Lock()
			delete(x.active, run.ID)
			x.mu.Unlock()
		}()
		x.execute(g, ex, run, s)
	}()
}

// resume starts again every run a stopped server left unfinished: the
// code is in the store, so nothing a student sent is lost.
func (x *runner) resume(ctx context.Context, g Grader) (int, error) {
	runs, err := x.store.Unfinished(ctx)
	if err != nil {
		return 0, fmt.Errorf("resume runs: %w", err)
	}
	for _, run := range runs {
		ex := x.exercises[run.Exercise]
		if ex == nil {
			reason := fmt.Sprintf("the exercise %q is no longer offered", run.Exercise)
			if err := x.store.InterruptRun(ctx, run.ID, reason, x.now()); err != nil {
				return 0, fmt.Errorf("resume runs: %w", err)
			}
			continue
		}
		x.log.Info("resuming a run the last server left unfinished", "run", run.ID, "exercise", run.Exercise)
		x.launch(g, ex, run, true)
	}
	return len(runs), nil
}

func (x *runner) execute(g Grader, ex *exercises.Exercise, run *labs.Run, s *live.Stream) {
	ctx := x.ctx
	defer func() {
		// A stream cut short by a stopping server does not end: its
		// viewers reconnect to the next server, which grades the run again.
		if ctx.Err() == nil {
			s.Close()
		}
	}()
	log := x.log.With("run", run.ID, "exercise", ex.Slug, "mode", run.Mode)
	if err := x.store.StartRun(ctx, run.ID, x.now()); err != nil {
		if ctx.Err() != nil {
			return // stopping: the run stays queued for the next server
		}
		log.Error("cannot start run", "err", err)
		x.interrupt(run.ID, "the run could not be started", s)
		return
	}
	sub := grading.Submission{ID: run.ID, Exercise: ex, Scenarios: run.Scenarios, Observer: observer{s},
		Files: []builder.File{{Name: "handler.go", Data: []byte(run.Code)}}}
	for _, b := range run.Backends {
		sub.Backends = append(sub.Backends, engine.Kind(b))
	}
	grade := g.Grade
	if run.Mode == labs.ModeRun {
		grade = g.Run
	}
	res, err := safeGrade(ctx, grade, sub)
	defer res.Close()
	if ctx.Err() != nil {
		// The server is stopping: the run stays unfinished in the store
		// and the next server grades it again.
		s.Send(live.NoticeMsg("The server is restarting; this run will be graded again when it is back."))
		return
	}
	if err != nil {
		log.Error("grading failed", "err", err)
		if res == nil {
			res = &grading.Result{ID: run.ID, Exercise: ex.Slug}
		}
		res.Verdict, res.Message = grading.InternalError, "the grader failed; this is not your fault, try again"
	}
	if n := len(res.Phases); n == 0 || res.Phases[n-1].Name != "done" {
		p := grading.Phase{Name: "done", At: x.now()}
		res.Phases = append(res.Phases, p)
		observer{s}.Phase(p)
	}
	data, err := json.Marshal(res)
	if err != nil {
		log.Error("encode result", "err", err)
		x.interrupt(run.ID, "the result could not be recorded", s)
		return
	}
	traces, err := recordings(res)
	if err != nil {
		log.Error("read the run's traces", "err", err)
		x.interrupt(run.ID, "the run's trace could not be recorded", s)
		return
	}
	out := labs.Outcome{Verdict: string(res.Verdict), Score: res.Score, Max: res.Max, Result: data, Finished: x.now()}
	// The outcome is stored even if the server is asked to stop now: it
	// is cheap, and the alternative is grading the run again.
	if err := x.store.FinishRun(context.WithoutCancel(ctx), run.ID, out, traces); err != nil {
		log.Error("cannot record the result", "err", err)
		x.interrupt(run.ID, "the result could not be recorded", s)
		return
	}
	s.Send(live.ResultMsg(data))
	log.Info("run finished", "verdict", res.Verdict, "score", res.Score, "max", res.Max)
}

// recordings reads the raw trace of each of res's runs for the store.
// Each is at most the exercise's trace cap.
func recordings(res *grading.Result) ([]labs.Trace, error) {
	var traces []labs.Trace
	for _, rec := range res.Recordings() {
		data, err := io.ReadAll(rec.Open())
		if err != nil {
			return nil, fmt.Errorf("read the trace of %s: %w", rec.Track, err)
		}
		traces = append(traces, labs.Trace{Track: rec.Track, Data: data})
	}
	return traces, nil
}

// interrupt ends a run the server failed, in the store and for its
// viewers, so that it is neither left "waiting" nor graded again.
func (x *runner) interrupt(id, reason string, s *live.Stream) {
	if err := x.store.InterruptRun(context.WithoutCancel(x.ctx), id, reason, x.now()); err != nil {
		x.log.Error("cannot mark the run interrupted", "run", id, "err", err)
	}
	s.Send(live.ErrorMsg("This run failed on our side (" + reason + "); it is not your fault. Run it again."))
}

// safeGrade keeps a grader panic from taking the server down.
func safeGrade(ctx context.Context, grade func(context.Context, grading.Submission) (*grading.Result, error), sub grading.Submission) (res *grading.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("grader panic: %v", v)
		}
	}()
	return grade(ctx, sub)
}

// observer streams what grading reports as it happens.
type observer struct{ s *live.Stream }

func (o observer) Phase(p grading.Phase) { o.s.Send(live.PhaseMsg(p.Name, p.At)) }

func (o observer) TrackStart(track, scenario string, backend engine.Kind) {
	o.s.Send(live.TrackMsg(track, scenario, string(backend)))
}

func (o observer) TraceBatch(track string, b trace.Batch) { o.s.AppendBatch(track, b) }

func (o observer) TrackEnd(track string, run *exercises.Run, sum grading.RunSummary) {
	o.s.Send(live.FindingsMsg(track, sum.Findings))
	o.s.Send(live.TrackEndMsg(track, sum))
}

// stream returns the message stream of run id: the live one, or one
// rebuilt from the recording. The build outlives the request that asked
// for it, since other viewers share it.
func (x *runner) stream(id string) (*live.Stream, error) {
	return x.hub.Get(id, func() (*live.Stream, error) { return x.replay(x.ctx, id) })
}

// errWaiting is the replay of a run that is waiting to be graded again:
// its stream exists only once it starts.
var errWaiting = errors.New("the run is waiting to be graded again after a restart")

// replay rebuilds a finished run's messages from the store, through the
// observer the live run used, in the order the live run sent them.
func (x *runner) replay(ctx context.Context, id string) (*live.Stream, error) {
	run, err := x.store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if !run.Status.Finished() {
		return nil, errWaiting
	}
	s := live.NewStream(id, true)
	defer s.Close()
	s.Send(live.HelloMsg(id, run.Exercise, string(run.Mode), false))
	if run.Status == labs.StatusInterrupted {
		res := grading.Result{ID: id, Exercise: run.Exercise, Verdict: grading.InternalError,
			Message: "this run was interrupted: " + run.Reason}
		data, err := json.Marshal(&res)
		if err != nil {
			return nil, fmt.Errorf("replay %s: encode result: %w", id, err)
		}
		s.Send(live.ResultMsg(data))
		return s, nil
	}
	var res grading.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		return nil, fmt.Errorf("replay %s: stored result: %w", id, err)
	}
	traces, err := x.store.Traces(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	byTrack := make(map[string][]byte, len(traces))
	for _, t := range traces {
		byTrack[t.Track] = t.Data
	}
	o := observer{s}
	// The phases up to "running" came before the tracks, the rest after.
	phases := res.Phases
	for len(phases) > 0 && phases[0].Name != "checking" && phases[0].Name != "done" {
		o.Phase(phases[0])
		phases = phases[1:]
	}
	for _, sum := range res.Runs {
		o.TrackStart(sum.Track, sum.Scenario, sum.Backend)
		// The recording came from the sandbox: decode it as strictly as
		// the grader did, and show what was well formed.
		t, _ := trace.DecodePartial(bytes.NewReader(byTrack[sum.Track]), trace.DefaultLimits(),
			func(b trace.Batch) { o.TraceBatch(sum.Track, b) })
		if sum.Findings == nil {
			// Stored before results kept their findings: analyse as
			// grading does now, with the exercise's own thresholds.
			var opt trace.LintOptions
			if ex := x.exercises[run.Exercise]; ex != nil {
				opt = ex.Lints
			}
			sum.Findings = trace.Analyze(t, opt)
		}
		o.TrackEnd(sum.Track, nil, sum)
	}
	for _, p := range phases {
		o.Phase(p)
	}
	s.Send(live.ResultMsg(run.Result))
	return s, nil
}
