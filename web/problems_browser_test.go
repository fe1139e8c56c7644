package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// problemGrader finds two compile problems in every handler, as the
// builder reports them.
type problemGrader struct{}

func (problemGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	sub.Observer.Phase(grading.Phase{Name: "building", At: time.Now()})
	sub.Observer.Phase(grading.Phase{Name: "done", At: time.Now()})
	return &grading.Result{ID: sub.ID, Exercise: sub.Exercise.Slug, Verdict: grading.CompileError,
		Message: "the handler does not compile (2 problems)",
		Problems: []builder.Problem{{File: "handler.go", Line: 12, Col: 3, Msg: "undefined: conect"}, {File: "handler.go", Line: 20, Col: 1, Msg: "missing return"}}}, nil
}

func (g problemGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

// In Chromium: after a compile error the editor shows the first problem's
// line, and each problem in the result is a link that puts the cursor on
// its line.
func TestBrowserCompileProblemsLink(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	var srv atomic.Pointer[Server]
	q, _ := StartTestQueue(t, "", srv.Load, nil)
	s := New(Config{Exercises: catalog.All(), Store: store, Queue: q, Grader: func() Grader { return problemGrader{} }, RunsPerMinute: 1000})
	srv.Store(s)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })

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
