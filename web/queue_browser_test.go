package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/queue"
)

// turnGrader finishes one run each time it is given a turn: a grader the
// test holds back, so that runs pile up in the queue.
type turnGrader struct{ turns chan struct{} }

func (g turnGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	select {
	case <-g.turns:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &grading.Result{ID: sub.ID, Exercise: sub.Exercise.Slug, Verdict: grading.Ran, Message: "ran"}, nil
}

func (g turnGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

// A run that waits shows its place in line on its page, with an estimate
// once the server has graded a run of its lane, and then its result.
func TestBrowserQueuePlace(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	g := turnGrader{turns: make(chan struct{})}
	workers := map[queue.Lane]int{queue.Practice: 1, queue.Submission: 1}
	var srv atomic.Pointer[Server]
	q, _ := StartTestQueue(t, "", srv.Load, workers)
	s := New(Config{Exercises: catalog.All(), Store: store, Queue: q, Workers: workers,
		Grader: func() Grader { return g }, RunsPerMinute: 1000})
	srv.Store(s)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })

	ctx := newBrowser(t)
	openExercise(t, ctx, ts.URL, "connect")
	start := func() string {
		t.Helper()
		expr := `fetch("/api/exercises/connect/runs", {method: "POST",
			headers: {"Content-Type": "application/json", "X-CSRF-Token": document.getElementById("lab").dataset.csrf},
			body: JSON.stringify({code: "package handler\n", mode: "run"})}).then(r => r.json()).then(r => r.id)`
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil || id == "" {
			t.Fatalf("start a run: %q, %v", id, err)
		}
		return id
	}

	// A first run, graded after a moment, gives the lane a measured time.
	first := start()
	time.Sleep(1500 * time.Millisecond)
	g.turns <- struct{}{}
	waitDone(t, store, first)

	// One run is being graded; two wait behind it.
	start()
	next := start()
	last := start()
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/runs/"+last)); err != nil {
		t.Fatal(err)
	}
	queued := `(document.querySelector('#phases li[data-phase="queued"]')||{}).textContent||""`
	waitJS(t, ctx, fmt.Sprintf(`/^queued: 2nd in line, about \d+ s$/.test(%s)`, queued), "the page to say the run is 2nd in line, with an estimate")
	screenshot(t, ctx, "queue-place")

	// Its turn comes: the place moves up, then the run is graded.
	g.turns <- struct{}{}
	waitJS(t, ctx, fmt.Sprintf(`/^queued: 1st in line/.test(%s)`, queued), "the page to say the run is 1st in line")
	g.turns <- struct{}{}
	g.turns <- struct{}{}
	waitJS(t, ctx, `!!document.querySelector('[data-testid="verdict"]')`, "the run's result")
	var text string
	js(t, ctx, queued, &text)
	if text != "queued" {
		t.Errorf("after the run started, its queued phase says %q, want just \"queued\"", text)
	}
	waitDone(t, store, next)
}

// waitDone waits until run id is finished in store.
func waitDone(t *testing.T, store labs.RunStore, id string) {
	t.Helper()
	for range 600 {
		run, err := store.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status.Finished() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %s was not finished within a minute", id)
}
