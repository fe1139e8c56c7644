package grading_test

import (
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

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
		grader, graderErr = grading.New(grading.Config{Dir: dir, Builder: b})
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
				res := grade(t, ex, ex.Reference)
				if res.Verdict != grading.Passed || res.Score != res.Max {
					t.Errorf("reference: %s", describe(res))
				}
				checkStoredTraces(t, res)
			})
			t.Run("starter", func(t *testing.T) {
				res := grade(t, ex, ex.Starter)
				if res.Verdict == grading.Passed {
					t.Errorf("starter passed: %s", describe(res))
				}
			})
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

// checkStoredTraces reopens every stored trace of res through the grader,
// as the web server does, and checks that paths outside the store are
// refused.
func checkStoredTraces(t *testing.T, res *grading.Result) {
	t.Helper()
	g := newGrader(t)
	for _, r := range res.Runs {
		f, err := g.OpenTrace(res.ID, r.TraceFile)
		if err != nil {
			t.Fatalf("OpenTrace(%s, %s): %v", res.ID, r.TraceFile, err)
		}
		tr, err := trace.Decode(f, trace.DefaultLimits())
		f.Close()
		if err != nil || len(tr.Events) != r.Events {
			t.Errorf("stored %s: %v, %d events; want the %d graded", r.TraceFile, err, len(tr.Events), r.Events)
		}
	}
	for _, bad := range [][2]string{{res.ID, "../result.json"}, {"..", "x-epoll.trace"}, {res.ID, "result.json"}} {
		if f, err := g.OpenTrace(bad[0], bad[1]); err == nil {
			f.Close()
			t.Errorf("OpenTrace(%q, %q) opened a file outside the stored traces", bad[0], bad[1])
		}
	}
}
