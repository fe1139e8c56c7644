package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
)

// The predict step, on every exercise: a prediction the form refuses says
// why; a committed one is locked, carried by the run, and shown next to the
// real value the run gave, on the result and in the predict box; after a
// reload the page still holds it, with that value.
func TestBrowserPredict(t *testing.T) {
	ts, _ := gradingLab(t)
	ctx := newBrowser(t)
	for _, ex := range catalog.All() {
		t.Run(ex.Slug, func(t *testing.T) {
			p := ex.Predict
			openExercise(t, ctx, ts.URL, ex.Slug)
			var form string
			js(t, ctx, `document.getElementById("predict").dataset.form`, &form)
			if form != string(p.Form) {
				t.Fatalf("the predict form is %q, want %q", form, p.Form)
			}
			// A prediction the form refuses: nothing typed, nothing picked,
			// shares that add up to nothing.
			click(t, ctx, `[data-testid="predict-commit"]`)
			var status string
			js(t, ctx, `document.querySelector('[data-testid="predict-status"]').textContent`, &status)
			if want := map[exercises.PredictForm]string{exercises.PredictNumber: "must be a number",
				exercises.PredictChoice: "Pick one", exercises.PredictHistogram: "add up to 0%"}[p.Form]; !strings.Contains(status, want) {
				t.Errorf("committing an empty prediction says %q, want it to say %q", status, want)
			}
			var want string // the prediction as the result shows it
			switch p.Form {
			case exercises.PredictNumber:
				typeInto(t, ctx, `[data-testid="predict-number"]`, "42")
				want = p.Format(exercises.Num(42))
			case exercises.PredictChoice:
				click(t, ctx, `[data-testid="predict-choice-0"]`)
				want = p.Choices[0]
			case exercises.PredictHistogram:
				var ok bool
				js(t, ctx, `document.querySelector('[data-testid="predict-share-0"]').value = "100", true`, &ok)
				shares := make([]float64, len(p.Choices))
				shares[0] = 100
				want = p.Format(exercises.Answer{Shares: shares})
			}
			click(t, ctx, `[data-testid="predict-commit"]`)
			var locked bool
			js(t, ctx, `[...document.querySelectorAll("#predict input")].every(i => i.disabled) && !document.querySelector('[data-testid="predict-change"]').hidden`, &locked)
			if !locked {
				t.Errorf("a committed prediction can still be edited without Change it")
			}
			clickRun(t, ctx, `[data-testid="run"]`)
			var shown struct{ Predicted, Actual, Status string }
			js(t, ctx, `(() => { const q = (s) => (document.querySelector(s) || {}).textContent || "";
				return {Predicted: q('[data-testid="prediction-predicted"]'), Actual: q('[data-testid="prediction-actual"]'),
					Status: q('[data-testid="predict-status"]')}; })()`, &shown)
			if shown.Predicted != want {
				t.Errorf("the result shows the prediction %q, want %q", shown.Predicted, want)
			}
			if shown.Actual == "" || strings.HasPrefix(shown.Actual, "not shown") {
				t.Errorf("the result shows no real value next to the prediction: %q", shown.Actual)
			}
			if !strings.Contains(shown.Status, want) || !strings.Contains(shown.Status, shown.Actual) {
				t.Errorf("the predict box says %q, want the prediction %q and the run's %q", shown.Status, want, shown.Actual)
			}
			screenshot(t, ctx, "predict-"+ex.Slug)
			t.Logf("%s: predicted %s; the run: %s", ex.Slug, shown.Predicted, shown.Actual)

			// The page remembers the prediction and the run's answer.
			if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(`.cm-editor`)); err != nil {
				t.Fatal(err)
			}
			js(t, ctx, `document.querySelector('[data-testid="predict-status"]').textContent`, &status)
			js(t, ctx, `[...document.querySelectorAll("#predict input")].every(i => i.disabled)`, &locked)
			if !locked || !strings.Contains(status, want) || !strings.Contains(status, shown.Actual) {
				t.Errorf("after a reload the predict box says %q (locked %v), want the prediction %q and the run's %q", status, locked, want, shown.Actual)
			}
		})
	}
}

// click clicks the element sel selects.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// typeInto types text into the input sel selects.
func typeInto(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SendKeys(sel, text)); err != nil {
		t.Fatalf("type into %s: %v", sel, err)
	}
}
