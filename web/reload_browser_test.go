package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// In Chromium: a student reloads the exercise page while their run is
// still being graded. The page follows the run again, says it still goes
// and keeps Run and Submit off until it ends.
func TestBrowserReloadMidRun(t *testing.T) {
	g := turnGrader{turns: make(chan struct{})}
	ts, _, store := testLab(t, g, nil)

	ctx := newBrowser(t)
	openExercise(t, ctx, ts.URL, "connect")
	do := steps(t, ctx)
	do("run", chromedp.Click(`[data-testid="run"]`))
	waitJS(t, ctx, `location.hash.startsWith("#run=")`, "the run to start")
	id := strings.TrimPrefix(evalJS[string](t, ctx, `location.hash`), "#run=")
	do("reload mid-run", chromedp.Reload())
	waitJS(t, ctx, `document.getElementById("lab").dataset.state === "live"`, "the reloaded page to follow the run")
	if !evalJS[bool](t, ctx, `document.getElementById("run").disabled && document.getElementById("submit").disabled`) {
		t.Errorf("after a reload mid-run, Run and Submit are enabled while the run still goes")
	}
	if notice := evalJS[string](t, ctx, `document.getElementById("notice").textContent`); !strings.Contains(notice, "Still running") {
		t.Errorf("after a reload mid-run the notice says %q", notice)
	}
	screenshot(t, ctx, "reload-mid-run")
	g.turns <- struct{}{}
	waitDone(t, store, id)
	waitJS(t, ctx, `document.getElementById("lab").dataset.state === "done" && !document.getElementById("run").disabled`, "the run to end and Run to come back")
}
