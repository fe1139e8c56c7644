package grading_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

func TestMain(m *testing.M) {
	if sandbox.IsInit() {
		sandbox.InitMain()
	}
	os.Exit(m.Run())
}

var (
	graderOnce sync.Once
	grader     *grading.Grader
	graderErr  error
)

// newGrader returns one grader for the test binary: the build template and
// warm cache are made once.
func newGrader(t testing.TB) *grading.Grader {
	t.Helper()
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	graderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "grading-test-")
		if err != nil {
			graderErr = err
			return
		}
		b, err := builder.New(builder.Config{Dir: dir, Vendor: catalog.Harnesses()})
		if err != nil {
			graderErr = err
			return
		}
		grader, graderErr = grading.New(grading.Config{Builder: b})
	})
	if graderErr != nil {
		t.Fatal(graderErr)
	}
	return grader
}

func grade(t *testing.T, ex *exercises.Exercise, src []byte) *grading.Result {
	t.Helper()
	res, err := newGrader(t).Grade(context.Background(), grading.Submission{
		Exercise: ex, Files: []builder.File{{Name: "handler.go", Data: src}}})
	if err != nil {
		t.Fatalf("Grade: %v", err)
	}
	return res
}

// failedChecks returns the ids of the checks that failed; a check that was
// not reached or not evaluated earns nothing but names no mistake.
func failedChecks(res *grading.Result) []string {
	var ids []string
	for _, c := range res.Checks {
		if c.Status == exercises.StatusFailed {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func describe(res *grading.Result) string {
	if res == nil {
		return "no result"
	}
	var b strings.Builder
	b.WriteString(string(res.Verdict) + ": " + res.Message + "\n")
	for _, c := range res.Checks {
		if !c.Passed {
			b.WriteString("  " + string(c.Status) + " " + c.ID + ": " + c.Message + "\n")
		}
	}
	for _, r := range res.Runs {
		b.WriteString("  run " + r.Scenario + "/" + string(r.Backend) + ": " + string(r.Verdict) + " " + r.Reason + " answer=" + r.Answer + " err=" + r.Error + " trace=" + r.TraceError)
		if r.Tries > 1 {
			b.WriteString(fmt.Sprintf(" tries=%d", r.Tries))
		}
		b.WriteString("\n")
		if r.Stderr != "" {
			b.WriteString("    stderr: " + firstLines(r.Stderr, 5) + "\n")
		}
	}
	for _, p := range res.Problems {
		b.WriteString("  problem " + p.String() + "\n")
	}
	return b.String()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// TestExercisesProveTheirGraders: the reference passes every check on every
// backend, the starter fails, each known-wrong variant fails exactly the
// checks it targets, a handler that does nothing earns nothing, and every
// handler of the exercise's corpus (written from the instructions alone by
// someone who never saw the checks) is judged as its header says.
func TestExercisesProveTheirGraders(t *testing.T) {
	for _, ex := range append(catalog.All(), catalog.Pending()...) {
		t.Run(ex.Slug, func(t *testing.T) {
			if err := ex.Validate(); err != nil {
				t.Fatal(err)
			}
			t.Run("reference", func(t *testing.T) {
				obs := &recorder{batches: map[string]int{}, ended: map[string]int{}}
				res, err := newGrader(t).Grade(context.Background(), grading.Submission{
					Exercise: ex, Files: []builder.File{{Name: "handler.go", Data: ex.Reference}}, Observer: obs})
				if err != nil {
					t.Fatalf("Grade: %v", err)
				}
				if res.Verdict != grading.Passed || res.Score != res.Max {
					t.Errorf("reference: %s", describe(res))
				}
				checkObserved(t, res, obs)
				checkPrediction(t, ex, res)
			})
			canFail := map[string]bool{}
			t.Run("starter", func(t *testing.T) {
				res := grade(t, ex, ex.Starter)
				// The starter compiles and runs, and checks fail: it is a
				// place to start, not a broken file.
				if res.Verdict != grading.Failed {
					t.Errorf("starter: %s", describe(res))
				}
				checkPrediction(t, ex, res)
				t.Logf("the starter fails %v", failedChecks(res))
				for _, id := range failedChecks(res) {
					canFail[id] = true
				}
			})
			// Every check is shown to fail for some handler: the starter
			// or a known-wrong variant.
			for _, v := range ex.Variants {
				for _, id := range v.Fails {
					canFail[id] = true
				}
			}
			for _, c := range ex.Checks {
				if !canFail[c.ID] && !t.Failed() {
					t.Errorf("no handler of %s fails check %q: the grader never shows it can fail", ex.Slug, c.ID)
				}
			}
			for _, v := range ex.Variants {
				t.Run(v.Name, func(t *testing.T) {
					res := grade(t, ex, v.Source)
					want := slices.Clone(v.Fails)
					sort.Strings(want)
					if got := failedChecks(res); !slices.Equal(got, want) {
						t.Errorf("%s fails %v, want exactly %v\n%s", v.Name, got, want, describe(res))
					}
					checkRefs(t, res)
				})
			}
			t.Run("does_nothing", func(t *testing.T) {
				res := grade(t, ex, doNothing(t, ex))
				if res.Verdict != grading.Failed || res.Score != 0 {
					t.Errorf("a handler that does nothing scores %d/%d, want 0\n%s", res.Score, res.Max, describe(res))
				}
			})
			for _, c := range loadCorpus(t, ex.Slug) {
				t.Run("corpus/"+c.name, func(t *testing.T) {
					res := grade(t, ex, c.src)
					if wrong := c.misjudged(res); wrong != "" {
						t.Errorf("corpus %s (%s): %s\n%s", c.name, c.why, wrong, describe(res))
					}
					checkRefs(t, res)
				})
			}
		})
	}
}

// checkPrediction checks that res puts the real answer next to the
// student's prediction: the runs of the reference and of the starter
// (which the question is usually about) show it, in the prediction's form.
func checkPrediction(t *testing.T, ex *exercises.Exercise, res *grading.Result) {
	t.Helper()
	p := res.Prediction
	if p == nil || p.Actual == nil || p.ActualText == "" || p.ActualText == "—" {
		t.Errorf("the runs do not answer the prediction %q: %+v", ex.Predict.Question, p)
		return
	}
	if _, err := ex.Predict.Check(*p.Actual); err != nil {
		t.Errorf("the real answer %s is not in the prediction's form: %v", p.ActualText, err)
	}
	t.Logf("the prediction's real answer: %s (%s)", p.ActualText, p.Note)
}

// checkRefs checks that every check that points into a trace points at an
// event that is there: the run it names, the event with that sequence
// number on that loop, at that time. A link to nothing is a message the
// student cannot check.
func checkRefs(t *testing.T, res *grading.Result) {
	t.Helper()
	for _, c := range res.Checks {
		if c.Ref == nil {
			continue
		}
		var run *exercises.Run
		for _, r := range res.RunDetails() {
			if r.Scenario.Name == c.Ref.Scenario && r.Backend == c.Ref.Backend {
				run = r
			}
		}
		if run == nil {
			t.Errorf("check %s points at %s on %s, a run that does not exist", c.ID, c.Ref.Scenario, c.Ref.Backend)
			continue
		}
		if e := run.Event(c.Ref.Seq, c.Ref.Loop); e == nil || e.Time != c.Ref.Time {
			t.Errorf("check %s points at event %d of loop %d at %dns in %s, which is not in its trace (%v)", c.ID, c.Ref.Seq, c.Ref.Loop, c.Ref.Time, run.Where(), e)
		}
	}
}

// misjudged says how res judges c wrongly, or "" when it is right. A
// correct handler passes with full marks. A wrong one is judged right when
// every check its mistake breaks earns nothing (failed, or not reached when
// the handler never attempted it) and no other check fails.
func (c corpusHandler) misjudged(res *grading.Result) string {
	if c.pass {
		if res.Verdict != grading.Passed || res.Score != res.Max {
			return fmt.Sprintf("correct, but graded %s %d/%d", res.Verdict, res.Score, res.Max)
		}
		return ""
	}
	var wrong []string
	for _, cr := range res.Checks {
		named := slices.Contains(c.fails, cr.ID)
		if named && cr.Passed || !named && cr.Status == exercises.StatusFailed {
			wrong = append(wrong, cr.ID)
		}
	}
	if res.Verdict == grading.Passed || len(wrong) > 0 {
		return fmt.Sprintf("should fail exactly %v; misjudged: %v", c.fails, wrong)
	}
	return ""
}

// corpusHandler is one handler of an exercise's corpus: a folder under
// exercises/SLUG/corpus whose handler.go starts with "// Corpus: pass" or
// "// Corpus: fail CHECK...", then a line saying its approach or mistake.
type corpusHandler struct {
	name  string
	src   []byte
	pass  bool
	fails []string
	why   string
}

func loadCorpus(t testing.TB, slug string) []corpusHandler {
	t.Helper()
	// Every exercise proves its grader on a corpus: a missing one is a
	// failure, not an empty corpus (it is also what running the test
	// binary from another directory than grading/ looks like).
	dir := filepath.Join("..", "exercises", slug, "corpus")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("the corpus of %s: %v (every exercise has one; run from the grading directory)", slug, err)
	}
	var out []corpusHandler
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name(), "handler.go"))
		if err != nil {
			t.Fatal(err)
		}
		c := corpusHandler{name: e.Name(), src: src}
		lines := strings.SplitN(string(src), "\n", 3)
		head, ok := strings.CutPrefix(lines[0], "// Corpus: ")
		if !ok || len(lines) < 3 {
			t.Fatalf("%s/%s: handler.go must start with a \"// Corpus: pass|fail CHECK...\" line", slug, e.Name())
		}
		f := strings.Fields(head)
		switch {
		case len(f) == 1 && f[0] == "pass":
			c.pass = true
		case len(f) > 1 && f[0] == "fail":
			c.fails = f[1:]
			sort.Strings(c.fails)
		default:
			t.Fatalf("%s/%s: bad corpus header %q", slug, e.Name(), lines[0])
		}
		_, c.why, _ = strings.Cut(lines[1], ": ")
		out = append(out, c)
	}
	return out
}

// doNothing returns a handler with the exercise's signature and an empty
// body.
func doNothing(t *testing.T, ex *exercises.Exercise) []byte {
	t.Helper()
	imports := map[string]string{"engine.": "github.com/asynclab/asynclab/engine", "sys.": "github.com/asynclab/asynclab/engine/sys", "time.": "time"}
	var b strings.Builder
	b.WriteString("package handler\n\nimport (\n")
	for prefix, path := range imports {
		if strings.Contains(ex.Signature, prefix) {
			fmt.Fprintf(&b, "\t%q\n", path)
		}
	}
	b.WriteString(")\n\n" + ex.Signature + " {}\n")
	return []byte(b.String())
}

// recorder is an Observer that counts what it is told.
type recorder struct {
	mu      sync.Mutex
	phases  []string
	started []string
	batches map[string]int // events per track, from TraceBatch
	ended   map[string]int // events per track, from TrackEnd
	resets  []string       // tracks run again, from TrackReset
}

func (r *recorder) Phase(p grading.Phase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases = append(r.phases, p.Name)
}

func (r *recorder) TrackStart(track, scenario string, backend engine.Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, track)
}

func (r *recorder) TraceBatch(track string, b trace.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches[track] += len(b.Events)
}

func (r *recorder) TrackEnd(track string, run *exercises.Run, sum grading.RunSummary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended[track] = sum.Events
}

// TrackReset forgets what the track showed, as the browser does.
func (r *recorder) TrackReset(track, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resets = append(r.resets, track)
	delete(r.batches, track)
	delete(r.ended, track)
}

// checkObserved checks that the observer saw every phase in order, every
// track start and end, and every event of each track live, and that the
// raw trace the sandbox kept decodes to the same events.
func checkObserved(t *testing.T, res *grading.Result, obs *recorder) {
	t.Helper()
	if want := []string{"building", "waiting", "running", "checking", "done"}; !slices.Equal(obs.phases, want) {
		t.Errorf("phases = %v, want %v", obs.phases, want)
	}
	if len(obs.started) != len(res.Runs) {
		t.Errorf("%d tracks started, want %d", len(obs.started), len(res.Runs))
	}
	recs := res.Recordings()
	if len(recs) != len(res.Runs) {
		t.Fatalf("%d recordings, want one per run (%d)", len(recs), len(res.Runs))
	}
	for i, r := range res.Runs {
		if obs.batches[r.Track] != r.Events || obs.ended[r.Track] != r.Events || r.Events == 0 {
			t.Errorf("%s: %d events live, %d at its end; want the %d graded", r.Track, obs.batches[r.Track], obs.ended[r.Track], r.Events)
		}
		if recs[i].Track != r.Track || recs[i].Size != r.TraceBytes {
			t.Errorf("recording %d is %s of %d bytes, want %s of %d", i, recs[i].Track, recs[i].Size, r.Track, r.TraceBytes)
		}
		tr, err := trace.Decode(recs[i].Open(), trace.DefaultLimits())
		if err != nil || len(tr.Events) != r.Events {
			t.Errorf("%s: the kept trace decodes to %d events (%v), want %d", r.Track, len(tr.Events), err, r.Events)
		}
	}
}

// panicky is an observer that panics on the first trace batch, as a bug
// tripping over hostile trace bytes would.
type panicky struct{ recorder }

func (p *panicky) TraceBatch(track string, b trace.Batch) { panic("observer bug") }

// A panic while decoding a trace live fails that run's trace and nothing
// else: the server goes on.
func TestTracePanicFailsOnlyTheTrace(t *testing.T) {
	ex := catalog.All()[0]
	obs := &panicky{recorder{batches: map[string]int{}, ended: map[string]int{}}}
	res, err := newGrader(t).Run(context.Background(), grading.Submission{
		Exercise: ex, Files: []builder.File{{Name: "handler.go", Data: ex.Reference}}, Observer: obs,
		Scenarios: []string{ex.Scenarios[0].Name}, Backends: []engine.Kind{engine.Epoll}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Runs) != 1 || !strings.Contains(res.Runs[0].TraceError, "observer bug") {
		t.Errorf("runs = %+v, want one whose trace error names the panic", res.Runs)
	}
}

// A run whose trace passes the exercise's cap is stopped there, told so,
// and its recording holds exactly the cap: the server keeps no more.
func TestTraceFloodIsCut(t *testing.T) {
	var ex exercises.Exercise
	for _, e := range catalog.All() {
		if e.Slug == "batching" { // its reference writes megabytes of trace
			ex = *e
		}
	}
	const traceCap = 64 << 10
	ex.Limits.Trace = traceCap
	res, err := newGrader(t).Grade(context.Background(), grading.Submission{
		Exercise: &ex, Files: []builder.File{{Name: "handler.go", Data: ex.Reference}},
		Backends: []engine.Kind{engine.Uring}})
	if err != nil {
		t.Fatalf("Grade: %v", err)
	}
	defer res.Close()
	if res.Verdict != grading.OutputLimit || !strings.Contains(res.Message, "the trace was cut at 64 KiB") {
		t.Errorf("verdict = %s: %q; want %s naming the 64 KiB cap", res.Verdict, res.Message, grading.OutputLimit)
	}
	if res.Score != 0 {
		t.Errorf("score = %d, want 0 for runs stopped before their end", res.Score)
	}
	recs := res.Recordings()
	cut := 0
	for i, r := range res.Runs {
		if recs[i].Size > traceCap {
			t.Errorf("%s: recording of %d bytes, more than the cap", r.Track, recs[i].Size)
		}
		if r.TraceCut == "" {
			continue
		}
		cut++
		if r.TraceBytes <= traceCap || recs[i].Size != traceCap {
			t.Errorf("%s: cut with %d bytes written and %d recorded; want more than %d written and %[4]d recorded",
				r.Track, r.TraceBytes, recs[i].Size, traceCap)
		}
	}
	if cut == 0 {
		t.Errorf("no run was cut:\n%s", describe(res))
	}
}
