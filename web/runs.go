package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/queue"
	"github.com/asynclab/asynclab/web/live"
)

// referenceClient is the client of the runs of an exercise's reference
// solution, which students compare their runs with. A browser's id is 32
// hex digits, so it cannot collide; the code of these runs is never shown.
const referenceClient = "reference"

// runner puts runs in the queue, grades those the queue hands it, streams
// each one live through the hub, and records it in the store. A run is in
// the store and durably queued before anyone is told its id, and is
// finished there (or graded again after a restart) whatever happens to
// the browser that asked for it.
type runner struct {
	store   labs.RunStore
	queue   Queue
	workers map[queue.Lane]int
	grader  func() Grader
	hub     *live.Hub
	// replaySlots holds a token for each replay being piped from the store.
	replaySlots chan struct{}
	relay       *relay // nil on a store owned by one process
	exercises   map[string]*exercises.Exercise
	log         *slog.Logger
	now         func() time.Time

	ctx    context.Context // the server's life; runs outlive requests
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	active  map[string]bool              // runs being graded, so none is graded twice
	queued  map[string]*waitingRun       // runs in line whose place is shown live
	took    map[queue.Lane]time.Duration // how long a run of the lane takes, smoothed
	metrics *metrics
	closed  bool
}

// waitingRun is a queued run whose viewers are told its place in line.
type waitingRun struct {
	lane  queue.Lane
	s     *live.Stream
	place queue.Place
	eta   time.Duration
	told  bool
	// checking says the store is being asked whether another process
	// finished it.
	checking bool
}

func newRunner(cfg Config, log *slog.Logger) *runner {
	x := &runner{store: cfg.Store, queue: cfg.Queue, workers: cfg.Workers,
		hub: live.NewHub(10*time.Minute, 256<<20), exercises: make(map[string]*exercises.Exercise),
		log: log, now: cfg.Now, active: make(map[string]bool), queued: make(map[string]*waitingRun),
		took: make(map[queue.Lane]time.Duration), replaySlots: make(chan struct{}, replaySlots)}
	x.grader = func() Grader {
		if cfg.Grader == nil {
			return nil
		}
		return cfg.Grader()
	}
	for _, ex := range cfg.Exercises {
		x.exercises[ex.Slug] = ex
	}
	x.relay = newRelay(cfg.Store)
	x.metrics = newMetrics(x)
	x.ctx, x.cancel = context.WithCancel(context.Background())
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.showPlaces()
	}()
	return x
}

// close stops the runs in progress and waits for them. They stay
// unfinished in the store and in the queue, so the next server grades
// them again.
func (x *runner) close() {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	x.wg.Wait()
}

// laneOf is the queue lane of run: practice runs never wait behind
// submissions.
func laneOf(run *labs.Run) queue.Lane {
	if run.Mode == labs.ModeSubmit {
		return queue.Submission
	}
	return queue.Practice
}

// studentOf names run's student for the queue's fairness: the browser's
// id, or a digest of whatever else identifies the client (an address).
func studentOf(run *labs.Run) string {
	if studentSafe.MatchString(run.Client) {
		return run.Client
	}
	sum := sha256.Sum256([]byte(run.Client))
	return "c" + hex.EncodeToString(sum[:16])
}

var studentSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// start records run and puts it in the queue. Once it returns nil the run
// will be graded, whatever happens to this process.
func (x *runner) start(ctx context.Context, run *labs.Run) error {
	if x.exercises[run.Exercise] == nil {
		return fmt.Errorf("start run: no exercise %q", run.Exercise)
	}
	if err := x.store.CreateRun(ctx, run); err != nil {
		return fmt.Errorf("start run: %w", err)
	}
	s := x.queuedStream(run, false)
	job := queue.Job{Run: run.ID, Student: studentOf(run), Lane: laneOf(run)}
	if err := x.queue.Enqueue(ctx, job); err != nil {
		x.mu.Lock()
		delete(x.queued, run.ID)
		x.mu.Unlock()
		x.interrupt(run.ID, "the run could not be put in line", s)
		s.Close()
		return fmt.Errorf("start run: %w", err)
	}
	return nil
}

// hello is the first message of run's stream.
func (x *runner) hello(run *labs.Run, isLive bool) live.Message {
	var judged []trace.LintCode
	if ex := x.exercises[run.Exercise]; ex != nil {
		judged = ex.Judged
	}
	return live.HelloMsg(run.ID, run.Exercise, string(run.Mode), isLive, judged)
}

// queuedStream makes run's live stream, which says the run is queued, and
// shows its place in line until a worker takes it. again marks a run
// queued again after a restart: a browser may hold seqs of its first
// stream.
func (x *runner) queuedStream(run *labs.Run, again bool) *live.Stream {
	s := live.NewStream(run.ID, again)
	s.Send(x.hello(run, true))
	s.Send(live.PhaseMsg("queued", x.now()))
	x.hub.Add(s)
	x.mu.Lock()
	x.queued[run.ID] = &waitingRun{lane: laneOf(run), s: s}
	x.mu.Unlock()
	return s
}

// placeEvery is how often the places of queued runs are read and, where
// they changed, sent to their viewers.
const placeEvery = time.Second

// showPlaces tells the viewers of each queued run where it stands, until
// the server stops: one read of the queue per lane each placeEvery.
func (x *runner) showPlaces() {
	tick := time.NewTicker(placeEvery)
	defer tick.Stop()
	for {
		select {
		case <-x.ctx.Done():
			return
		case <-tick.C:
		}
		x.mu.Lock()
		lanes := map[queue.Lane]bool{}
		for _, w := range x.queued {
			lanes[w.lane] = true
		}
		x.mu.Unlock()
		for lane := range lanes {
			line, err := x.queue.Line(x.ctx, lane)
			if err != nil {
				if x.ctx.Err() == nil {
					x.log.Warn("reading the queue", "lane", lane, "err", err)
				}
				continue
			}
			x.tellPlaces(lane, line)
		}
	}
}

// tellPlaces sends each queued run of lane its place in line, if it
// changed since it was last told.
func (x *runner) tellPlaces(lane queue.Lane, line map[string]queue.Place) {
	x.mu.Lock()
	defer x.mu.Unlock()
	workers := max(1, x.workers[lane])
	for id, w := range x.queued {
		if w.lane != lane {
			continue
		}
		p, ok := line[id]
		if ok && p.Running && !x.active[id] && x.relay != nil {
			// A worker of another process took it: its viewers follow
			// it through the relay, on the stream the hub builds them.
			delete(x.queued, id)
			x.abandon(w.s)
			continue
		}
		if !ok || p.Running || p.Done {
			// Taken by a worker: one of this server says so itself; one
			// of another process is followed through the store.
			if !x.active[id] && !(ok && p.Running) {
				x.watchElsewhere(id, w)
			}
			continue
		}
		var eta time.Duration
		if took := x.took[lane]; took > 0 && !p.Waiting {
			// The runs ahead go workers at a time; this one starts
			// when the last batch before it is done.
			eta = time.Duration(p.Ahead/workers+1) * took
			eta = eta.Round(time.Second)
		}
		if w.told && p == w.place && eta == w.eta {
			continue
		}
		w.place, w.eta, w.told = p, eta, true
		w.s.Send(live.QueueMsg(p.Ahead, p.Waiting, eta))
	}
}

// watchElsewhere follows a queued run that is no longer in line though no
// worker of this server took it: a worker of another process (lab worker,
// on a shared queue) finished it. Once the store has it finished, its
// viewers get it from there, on the stream they hold. Called with x.mu
// held.
func (x *runner) watchElsewhere(id string, w *waitingRun) {
	if w.checking {
		return
	}
	w.checking = true
	x.wg.Go(func() {
		ctx, cancel := context.WithTimeout(x.ctx, time.Minute)
		defer cancel()
		run, err := x.store.Run(ctx, id)
		x.mu.Lock()
		// Not finished yet (being enqueued, or just taken by a worker of
		// this server), or taken here meanwhile: nothing to show.
		done := err == nil && run.Status.Finished() && x.queued[id] == w
		if done {
			delete(x.queued, id)
		}
		w.checking = false
		x.mu.Unlock()
		if err != nil && x.ctx.Err() == nil {
			x.log.Warn("checking a run graded elsewhere", "run", id, "err", err)
		}
		if !done {
			return
		}
		if err := x.replayInto(ctx, w.s, run); err != nil {
			x.log.Warn("showing a run graded elsewhere", "run", id, "err", err)
			w.s.Send(live.ErrorMsg("This run was graded, but its result could not be shown here; reload the page."))
		}
		w.s.Close()
	})
}

// Queue is the durable line of runs waiting to be graded: a
// [queue.Queue] on SQLite or PostgreSQL, whose workers call
// [Server.Work] and [Server.GiveUp].
type Queue interface {
	Enqueue(ctx context.Context, job queue.Job) error
	Line(ctx context.Context, lane queue.Lane) (map[string]queue.Place, error)
}

// work grades the run of job, which the queue handed this server. It
// returns nil once the run is finished in the store (or was already), and
// an error, for the queue to try again later, when it could not be.
func (x *runner) work(ctx context.Context, job queue.Job) error {
	run, err := x.store.Run(ctx, job.Run)
	if errors.Is(err, labs.ErrNotFound) {
		x.log.Warn("the queue holds a run the store does not", "run", job.Run)
		return nil
	}
	if err != nil {
		return fmt.Errorf("grade %s: %w", job.Run, err)
	}
	if run.Status.Finished() {
		return nil // an earlier try finished it
	}
	ex := x.exercises[run.Exercise]
	if ex == nil {
		reason := fmt.Sprintf("the exercise %q is no longer offered", run.Exercise)
		if err := x.store.InterruptRun(ctx, run.ID, reason, x.now()); err != nil {
			return fmt.Errorf("grade %s: %w", job.Run, err)
		}
		return nil
	}
	g := x.grader()
	if g == nil {
		return fmt.Errorf("grade %s: the grader is not ready", job.Run)
	}
	x.mu.Lock()
	if x.closed || x.active[run.ID] {
		x.mu.Unlock()
		return fmt.Errorf("grade %s: the server is stopping or grades it already", job.Run)
	}
	x.active[run.ID] = true
	w := x.queued[run.ID]
	delete(x.queued, run.ID)
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.active, run.ID)
		x.mu.Unlock()
	}()
	var s *live.Stream
	if w != nil {
		s = w.s
	} else {
		// Queued by another process, or before a restart: a stream of
		// its own, which a browser may have seen part of.
		s = live.NewStream(run.ID, true)
		s.Send(x.hello(run, true))
		x.hub.Add(s)
	}
	// The run ends with the server, or when the queue gives up this try.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(x.ctx, cancel)
	defer stop()
	if x.relay != nil {
		defer x.relayOut(ctx, run.ID, job.Attempt, s)()
	}
	x.metrics.wait.WithLabelValues(string(job.Lane)).Observe(x.now().Sub(run.Created).Seconds())
	t0 := time.Now()
	x.execute(ctx, g, ex, run, s)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("grade %s: stopped: %w", job.Run, err)
	}
	x.metrics.grade.WithLabelValues(string(job.Lane)).Observe(time.Since(t0).Seconds())
	x.mu.Lock()
	if took, d := x.took[job.Lane], time.Since(t0); took == 0 {
		x.took[job.Lane] = d
	} else {
		x.took[job.Lane] = (3*took + d) / 4
	}
	x.mu.Unlock()
	return nil
}

// giveUp ends job's run as interrupted, with the queue's reason, once its
// tries have not finished it.
func (x *runner) giveUp(ctx context.Context, job queue.Job, reason string) error {
	if err := x.store.InterruptRun(ctx, job.Run, reason, x.now()); err != nil && !errors.Is(err, labs.ErrNotFound) {
		return fmt.Errorf("give up %s: %w", job.Run, err)
	}
	x.mu.Lock()
	w := x.queued[job.Run]
	delete(x.queued, job.Run)
	x.mu.Unlock()
	if w != nil {
		w.s.Send(live.ErrorMsg("This run failed on our side (" + reason + "); it is not your fault. Run it again."))
		w.s.Close()
	}
	return nil
}

// resume puts back in line every run a stopped server left unfinished
// (the queue has most already; putting one in again is a no-op), so that
// nothing a student sent is lost, and shows their places.
func (x *runner) resume(ctx context.Context) (int, error) {
	runs, err := x.store.Unfinished(ctx)
	if err != nil {
		return 0, fmt.Errorf("resume runs: %w", err)
	}
	for _, run := range runs {
		if x.exercises[run.Exercise] == nil {
			reason := fmt.Sprintf("the exercise %q is no longer offered", run.Exercise)
			if err := x.store.InterruptRun(ctx, run.ID, reason, x.now()); err != nil {
				return 0, fmt.Errorf("resume runs: %w", err)
			}
			continue
		}
		x.mu.Lock()
		busy := x.active[run.ID] || x.queued[run.ID] != nil
		x.mu.Unlock()
		if !busy {
			x.queuedStream(run, true)
		}
		job := queue.Job{Run: run.ID, Student: studentOf(run), Lane: laneOf(run)}
		if err := x.queue.Enqueue(ctx, job); err != nil {
			return 0, fmt.Errorf("resume runs: %w", err)
		}
	}
	return len(runs), nil
}

func (x *runner) execute(ctx context.Context, g Grader, ex *exercises.Exercise, run *labs.Run, s *live.Stream) {
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
		sub.Backends = append(sub.Backends, backend.Kind(b))
	}
	if run.Prediction != "" {
		var a exercises.Answer
		if err := json.Unmarshal([]byte(run.Prediction), &a); err != nil {
			log.Warn("the stored prediction is unreadable; grading without it", "err", err)
		} else {
			sub.Predicted = &a
		}
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
	// The run waited in the queue from its creation: the grader's phases
	// follow that one.
	res.Phases = append([]grading.Phase{{Name: "queued", At: run.Created}}, res.Phases...)
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
	if p := res.Prediction; p != nil && p.Actual != nil {
		b, err := json.Marshal(p.Actual)
		if err != nil {
			log.Error("encode the prediction's answer", "err", err)
		}
		out.Actual = string(b)
	}
	// The outcome is stored even if the server is asked to stop now: it
	// is cheap, and the alternative is grading the run again.
	if err := x.store.FinishRun(context.WithoutCancel(ctx), run.ID, out, traces); err != nil {
		log.Error("cannot record the result", "err", err)
		x.interrupt(run.ID, "the result could not be recorded", s)
		return
	}
	x.metrics.recorded(laneOf(run), res)
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
type observer struct{ s messages }

// messages is where an observer's messages go: a run's live stream, or the
// pipe of one viewer's replay.
type messages interface {
	Send(live.Message)
	AppendBatch(track string, b trace.Batch)
}

// pipeMessages sends to a replay's pipe, until its viewer goes.
type pipeMessages struct {
	ctx context.Context
	p   *live.Pipe
}

func (m pipeMessages) Send(msg live.Message) { m.p.Send(m.ctx, msg) }

func (m pipeMessages) AppendBatch(track string, b trace.Batch) { m.p.AppendBatch(m.ctx, track, b) }

func (o observer) Phase(p grading.Phase) { o.s.Send(live.PhaseMsg(p.Name, p.At)) }

func (o observer) TrackStart(track, scenario string, backend backend.Kind) {
	o.s.Send(live.TrackMsg(track, scenario, string(backend)))
}

func (o observer) TraceBatch(track string, b trace.Batch) { o.s.AppendBatch(track, b) }

func (o observer) TrackReset(track, why string) { o.s.Send(live.TrackResetMsg(track, why)) }

func (o observer) TrackEnd(track string, run *exercises.Run, sum grading.RunSummary) {
	o.s.Send(live.FindingsMsg(track, sum.Findings))
	o.s.Send(live.TrackEndMsg(track, sum))
}

// stream returns what a viewer of run id is sent: the live stream, one
// rebuilt from the recording and shared, or, for a recording over
// shareLimit, a pipe that reads it from the store for this viewer alone.
// The viewer calls release when it goes. A shared build outlives the
// request that asked for it, since other viewers share it.
func (x *runner) stream(ctx context.Context, id string) (src live.Source, release func(), err error) {
	nothing := func() {}
	if s := x.hub.Lookup(id); s != nil {
		return s, nothing, nil
	}
	run, err := x.store.Run(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if run.Status == labs.StatusDone && recordedBytes(run) > shareLimit {
		x.metrics.piped.Inc()
		p := live.NewPipe(x.ctx, id, pipeWindow, func(ctx context.Context, p *live.Pipe) error {
			select {
			case x.replaySlots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			defer func() { <-x.replaySlots }()
			m := pipeMessages{ctx, p}
			m.Send(x.hello(run, false))
			return x.replayInto(ctx, m, run)
		})
		return p, p.Stop, nil
	}
	s, err := x.hub.Get(id, func() (*live.Stream, error) { return x.replay(x.ctx, id) })
	return s, nothing, err
}

// shareLimit is the largest recording, in trace bytes over all its tracks,
// whose replay the hub builds once and shares among its viewers (every
// reference handler's is under 4 MB). A larger one is piped to each viewer
// from the store, one track at a time, holding pipeWindow of messages;
// replaySlots bounds how many such pipes read the store at once, so that
// what replays hold is bounded by replaySlots times the largest track an
// exercise's trace cap allows.
const (
	shareLimit  = 4 << 20
	pipeWindow  = 1 << 20
	replaySlots = 4
)

// recordedBytes is the size of run's recording, as its result says.
func recordedBytes(run *labs.Run) int64 {
	var res struct {
		Runs []struct {
			TraceBytes int64 `json:"trace_bytes"`
		} `json:"runs"`
	}
	if json.Unmarshal(run.Result, &res) != nil {
		return 0
	}
	var n int64
	for _, r := range res.Runs {
		n += r.TraceBytes
	}
	return n
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
		if x.relay != nil {
			return x.followStream(run), nil
		}
		return nil, errWaiting
	}
	s := live.NewStream(id, true)
	defer s.Close()
	s.Send(x.hello(run, false))
	if err := x.replayInto(ctx, s, run); err != nil {
		return nil, err
	}
	return s, nil
}

// replayInto sends the messages of finished run, from its recording, to s,
// after s's hello: what the live run sent.
func (x *runner) replayInto(ctx context.Context, s messages, run *labs.Run) error {
	id := run.ID
	if run.Status == labs.StatusInterrupted {
		res := grading.Result{ID: id, Exercise: run.Exercise, Verdict: grading.InternalError,
			Message: "this run was interrupted: " + run.Reason}
		data, err := json.Marshal(&res)
		if err != nil {
			return fmt.Errorf("replay %s: encode result: %w", id, err)
		}
		s.Send(live.ResultMsg(data))
		return nil
	}
	var res grading.Result
	if err := json.Unmarshal(run.Result, &res); err != nil {
		return fmt.Errorf("replay %s: stored result: %w", id, err)
	}
	o := observer{s}
	// The phases up to "running" came before the tracks, the rest after.
	phases := res.Phases
	for len(phases) > 0 && phases[0].Name != "checking" && phases[0].Name != "done" {
		o.Phase(phases[0])
		phases = phases[1:]
	}
	for _, sum := range res.Runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		o.TrackStart(sum.Track, sum.Scenario, sum.Backend)
		// One track at a time: a replay holds one recording, not all.
		data, err := x.store.Trace(ctx, id, sum.Track)
		if err != nil && !errors.Is(err, labs.ErrNotFound) {
			return fmt.Errorf("replay %s: %w", id, err)
		}
		// The recording came from the sandbox: decode it as strictly as
		// the grader did, and show what was well formed.
		t, _ := trace.DecodePartial(bytes.NewReader(data), trace.DefaultLimits(),
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
	return nil
}
