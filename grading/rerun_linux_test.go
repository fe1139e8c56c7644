package grading_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

// TestStarvedFailureRunsAgain grades a real handler in a real sandbox
// with a check that fails on a starved stretch of the run for its first
// few evaluations: the grader runs that run again, up to three times in
// all, tells the observer each time, and judges the last try.
func TestStarvedFailureRunsAgain(t *testing.T) {
	var base *exercises.Exercise
	for _, e := range catalog.All() {
		if e.Slug == "headofline" {
			base = e
		}
	}
	for _, c := range []struct {
		name        string
		starved     int // evaluations that fail starved before it passes
		wantTries   int
		wantVerdict grading.Verdict
	}{
		{"passes on the second try", 1, 2, grading.Passed},
		{"starved every time keeps the failure", 100, 3, grading.Failed},
		{"never starved runs once", 0, 0, grading.Passed},
	} {
		t.Run(c.name, func(t *testing.T) {
			ex := *base
			var evals atomic.Int32
			ex.Checks = []exercises.Check{{ID: "timing", Title: "a timing check", Points: 10,
				Eval: func(runs []*exercises.Run) exercises.Outcome {
					if int(evals.Add(1)) > c.starved {
						return exercises.Pass()
					}
					o := exercises.Fail(runs[0], nil, "held the loop while starved")
					o.Starved = true
					return o
				}}}
			obs := &recorder{batches: map[string]int{}, ended: map[string]int{}}
			res, err := newGrader(t).Grade(context.Background(), grading.Submission{
				Exercise: &ex, Files: []builder.File{{Name: "handler.go", Data: ex.Reference}}, Observer: obs,
				Scenarios: []string{ex.Scenarios[0].Name}, Backends: []engine.Kind{engine.Epoll}})
			if err != nil {
				t.Fatalf("Grade: %v", err)
			}
			defer res.Close()
			if res.Verdict != c.wantVerdict || len(res.Runs) != 1 || res.Runs[0].Tries != c.wantTries {
				t.Fatalf("verdict %s, runs %d, tries %d; want %s, one run, %d tries:\n%s",
					res.Verdict, len(res.Runs), res.Runs[0].Tries, c.wantVerdict, c.wantTries, describe(res))
			}
			track := res.Runs[0].Track
			wantResets := max(0, c.wantTries-1)
			if len(obs.resets) != wantResets || len(obs.started) != 1+wantResets {
				t.Errorf("observer: %d resets, %d track starts; want %d and %d", len(obs.resets), len(obs.started), wantResets, 1+wantResets)
			}
			// What the observer shows after the resets is the run judged
			// and recorded.
			if obs.ended[track] != res.Runs[0].Events || obs.batches[track] != res.Runs[0].Events {
				t.Errorf("observer saw %d events (%d at the end) of %s, the result has %d", obs.batches[track], obs.ended[track], track, res.Runs[0].Events)
			}
			if rec := res.Recordings(); len(rec) != 1 || rec[0].Size == 0 {
				t.Errorf("recordings %+v, want the last try's", rec)
			}
		})
	}
}
