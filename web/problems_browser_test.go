package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

// problemGrader finds two compile problems in every handler, as the
// builder reports them.
type problemGrader struct{}

func (problemGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	sub.Observer.Phase(grading.Phase{Name: "building", At: time.Now()})
	sub.Observer.Phase(grading.Phase{Name: "done", At: time.Now()})
	return &grading.Result{ID: sub.ID, Exercise: sub.Exercise.Slug, Verdict: grading.CompileError,
		Message:  "the handler does not compile (2 problems)",
		Problems: []builder.Problem{{File: "handler.go", Line: 12, Col: 3, Msg: "undefined: conect"}, {File: "handler.go", Line: 20, Col: 1, Msg: "missing return"}}}, nil
}

func (g problemGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

// In Chromium: after a compile error the editor shows the first problem's
// line, and each problem in the result is a link that puts the cursor on
// its line.
func TestBrowserCompileProblemsLink(t *testing.T) {
	ts, _, _ := testLab(t, problemGrader{}, nil)

	ctx := newBrowser(t)
	openExercise(t, ctx, ts.URL, "connect")
	cursorLine := `labEditor.view.state.doc.lineAt(labEditor.view.state.selection.main.head).number`
	steps(t, ctx)("run", chromedp.Click(`[data-testid="run"]`))
	waitJS(t, ctx, `!!document.querySelector('[data-testid="problem-1"]')`, "the compile problems")
	if line := evalJS[int](t, ctx, cursorLine); line != 12 {
		t.Errorf("after the compile error the cursor is on line %d, want the first problem's, 12", line)
	}
	steps(t, ctx)("open the second problem", chromedp.Click(`[data-testid="problem-1"]`))
	waitJS(t, ctx, cursorLine+` === 20`, "the cursor on the second problem's line")
	if !evalJS[bool](t, ctx, `document.activeElement.closest(".cm-editor") !== null`) {
		t.Errorf("after a click on a problem the editor does not have the focus")
	}
	screenshot(t, ctx, "compile-problems")
}

// reverseGrader starts the tracks of every scenario and backend in the
// reverse of the exercise's order, as boxes that start in any order do.
type reverseGrader struct{}

func (reverseGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	o := sub.Observer
	o.Phase(grading.Phase{Name: "running", At: time.Now()})
	sc := sub.Exercise.Scenarios
	for i := len(sc) - 1; i >= 0; i-- {
		for _, b := range []engine.Kind{engine.Uring, engine.Epoll} {
			track := grading.Track(sc[i].Name, b)
			o.TrackStart(track, sc[i].Name, b)
			o.TraceBatch(track, trace.Batch{Names: []string{"x"}, FirstName: 1, End: true,
				Events: []trace.Event{{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1}}})
			o.TrackEnd(track, &exercises.Run{}, grading.RunSummary{Scenario: sc[i].Name, Backend: b, Track: track})
		}
	}
	return &grading.Result{ID: sub.ID, Exercise: sub.Exercise.Slug, Verdict: grading.Ran, Message: "ran"}, nil
}

func (g reverseGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

// In Chromium: a live run's tracks sit in the exercise's order of
// scenarios, epoll before io_uring, whatever order their boxes start in.
func TestBrowserLiveTracksInExerciseOrder(t *testing.T) {
	ts, _, _ := testLab(t, reverseGrader{}, nil)

	ctx := newBrowser(t)
	openExercise(t, ctx, ts.URL, "connect")
	steps(t, ctx)("run", chromedp.Click(`[data-testid="run"]`))
	waitJS(t, ctx, `document.getElementById("lab").dataset.state === "done"`, "the run to end")
	got := evalJS[[]string](t, ctx, `[...new Set(labTimeline.lanes().map((l) => l.track))]`)
	var want []string
	for _, sc := range catalog.All()[0].Scenarios {
		if catalog.All()[0].Slug != "connect" {
			t.Fatal("the catalog's first exercise is not connect")
		}
		want = append(want, grading.Track(sc.Name, engine.Epoll), grading.Track(sc.Name, engine.Uring))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the live tracks are in the order\n%v\nwant\n%v", got, want)
	}
}
