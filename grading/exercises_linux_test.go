package grading_test

import (
	"bytes"
	"context"
	"os"
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
func newGrader(t *testing.T) *grading.Grader {
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

func failedChecks(res *grading.Result) []string {
	var ids []string
	for _, c := range res.Checks {
		if !c.Passed {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func describe(res *grading.Result) string {
	var b strings.Builder
	b.WriteString(string(res.Verdict) + ": " + res.Message + "\n")
	for _, c := range res.Checks {
		if !c.Passed {
			b.WriteString("  FAIL " + c.ID + ": " + c.Message + "\n")
		}
	}
	for _, r := range res.Runs {
		b.WriteString("  run " + r.Scenario + "/" + string(r.Backend) + ": " + string(r.Verdict) + " answer=" + r.Answer + " err=" + r.Error + " trace=" + r.TraceError + "\n")
	}
	for _, p := range res.Problems {
		b.WriteString("  problem " + p.String() + "\n")
	}
	return b.String()
}

// TestExercisesProveTheirGraders: the reference passes every check on every
// backend, the starter fails, and each known-wrong variant fails exactly
// the checks it targets.
func TestExercisesProveTheirGraders(t *testing.T) {
	for _, ex := range catalog.All() {
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
			})
			canFail := map[string]bool{}
			t.Run("starter", func(t *testing.T) {
				res := grade(t, ex, ex.Starter)
				// The starter compiles and runs, and checks fail: it is a
				// place to start, not a broken file.
				if res.Verdict != grading.Failed {
					t.Errorf("starter: %s", describe(res))
				}
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
				})
			}
		})
	}
}

// recorder is an Observer that counts what it is told.
type recorder struct {
	mu      sync.Mutex
	phases  []string
	started []string
	batches map[string]int // events per track, from TraceBatch
	ended   map[string]int // events per track, from TrackEnd
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

// checkObserved checks that the observer saw every phase in order, every
// track start and end, and every event of each track live, and that the
// raw trace the sandbox kept decodes to the same events.
func checkObserved(t *testing.T, res *grading.Result, obs *recorder) {
	t.Helper()
	if want := []string{"queued", "building", "running", "checking", "done"}; !slices.Equal(obs.phases, want) {
		t.Errorf("phases = %v, want %v", obs.phases, want)
	}
	if len(obs.started) != len(res.Runs) {
		t.Errorf("%d tracks started, want %d", len(obs.started), len(res.Runs))
	}
	for i, r := range res.Runs {
		if obs.batches[r.Track] != r.Events || obs.ended[r.Track] != r.Events || r.Events == 0 {
			t.Errorf("%s: %d events live, %d at its end; want the %d graded", r.Track, obs.batches[r.Track], obs.ended[r.Track], r.Events)
		}
		tr, err := trace.Decode(bytes.NewReader(res.RunDetails()[i].Box.Trace), trace.DefaultLimits())
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
