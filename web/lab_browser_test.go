package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
)

// The browser tests drive the whole lab: a real grader building and
// running handlers in the sandbox, a real SQLite store, and pages in a
// real headless Chromium.

var (
	realOnce   sync.Once
	realGrader *grading.Grader
	realErr    error
)

// gradingLab starts a server with the real grader and a fresh store.
func gradingLab(t *testing.T) (*httptest.Server, labs.Store) {
	t.Helper()
	if err := sandbox.Ready(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the sandbox is required in CI: %v", err)
		}
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	realOnce.Do(func() {
		dir, err := os.MkdirTemp("", "web-browser-test-")
		if err != nil {
			realErr = err
			return
		}
		b, err := builder.New(builder.Config{Dir: dir, Vendor: catalog.Harnesses()})
		if err != nil {
			realErr = err
			return
		}
		if err := b.Prepare(context.Background()); err != nil {
			realErr = err
			return
		}
		realGrader, realErr = grading.New(grading.Config{Builder: b})
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	ts, _, store := testLab(t, realGrader, nil)
	return ts, store
}

func exercise(t *testing.T, slug string) *exercises.Exercise {
	for _, ex := range catalog.All() {
		if ex.Slug == slug {
			return ex
		}
	}
	t.Fatalf("no exercise %s", slug)
	return nil
}

// js evaluates expr in the page and decodes its value into out.
func js(t *testing.T, ctx context.Context, expr string, out any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", abbreviate(expr, 120), err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("evaluate %s: %v", abbreviate(expr, 120), err)
	}
}

// waitJS polls expr until it is true.
func waitJS(t *testing.T, ctx context.Context, expr string, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		detail, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`(document.getElementById("result")||document.body).innerText.slice(0,2000)`))
		t.Fatalf("waiting for %s: %v\npage says: %s", what, err, detail)
	}
}

// setCode replaces the editor's text.
func setCode(t *testing.T, ctx context.Context, code []byte) {
	t.Helper()
	src, _ := json.Marshal(string(code))
	var ok bool
	js(t, ctx, fmt.Sprintf(`window.labEditor.setValue(%s), true`, src), &ok)
}

// runDone is true once the stream of the run started last has ended.
const runDone = `document.getElementById("lab").dataset.state === "done" && !!document.querySelector('[data-testid="verdict"]')`

// clickRun clicks a button that starts a run, and waits for it to end.
func clickRun(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var ok bool
	js(t, ctx, `document.getElementById("lab").dataset.state = "", true`, &ok)
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	waitJS(t, ctx, runDone, "the run to end")
}

// openExercise goes from the catalogue to an exercise page, as a student
// does.
func openExercise(t *testing.T, ctx context.Context, base, slug string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
		chromedp.Click(`[data-testid="exercise-`+slug+`"] a`),
		chromedp.WaitVisible(`.cm-editor`),
	); err != nil {
		t.Fatalf("open %s: %v", slug, err)
	}
}

// The starter runs live: the event count grows while the run is going,
// the lanes are drawn, and the time from the click to the first event is
// reported.
func TestBrowserRunLive(t *testing.T) {
	ts, _ := gradingLab(t)
	ctx := newBrowser(t)
	// A 1280x720 laptop: the editor and the Run button fit on the first
	// screen, and once a run starts its timeline is in view.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	openExercise(t, ctx, ts.URL, "headofline")
	windowShot(t, ctx, "exercise-1280x720")
	inView := func(sel string) string {
		var r struct{ Top, Bottom, Window float64 }
		js(t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {Top: r.top, Bottom: r.bottom, Window: window.innerHeight}; })()`, sel), &r)
		if r.Top >= 0 && r.Bottom <= r.Window {
			return ""
		}
		return fmt.Sprintf("%s at %.0f–%.0f px, the window 0–%.0f", sel, r.Top, r.Bottom, r.Window)
	}
	if off := inView(`[data-testid="run"]`); off != "" {
		t.Errorf("at 1280x720 the Run button is off the first screen: %s", off)
	}
	// Sample the event count every frame from the click to the end.
	const sample = `window.samples = []; (function tick() {
		const done = document.getElementById("lab").dataset.state === "done";
		window.samples.push([performance.now(), Number(document.getElementById("event-count").textContent), done]);
		if (!done || window.samples.length < 3) requestAnimationFrame(tick);
	})(); true`
	var firstEvents []float64
	for i := range 2 { // the first run warms the build; the second is measured
		var ok bool
		js(t, ctx, `window.labFirstEvent = undefined; document.getElementById("lab").dataset.state = ""; true`, &ok)
		if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="run"]`)); err != nil {
			t.Fatal(err)
		}
		js(t, ctx, sample, &ok)
		waitJS(t, ctx, runDone, "the run to end")
		if i == 0 {
			if off := inView(`canvas.tl`); off != "" {
				var top float64
				if js(t, ctx, `document.querySelector("canvas.tl").getBoundingClientRect().top`, &top); top < 0 || top > 720*0.6 {
					t.Errorf("after Run the timeline is not in view: %s", off)
				}
			}
			windowShot(t, ctx, "exercise-after-run-1280x720")
			js(t, ctx, `window.scrollTo(0, 0), true`, &ok)
		}
		var first float64
		js(t, ctx, `window.labFirstEvent || -1`, &first)
		firstEvents = append(firstEvents, first)
		var phases []grading.Phase
		js(t, ctx, `window.labLastResult.phases`, &phases)
		var steps []string
		for i := 1; i < len(phases); i++ {
			steps = append(steps, fmt.Sprintf("%s %v", phases[i-1].Name, phases[i].At.Sub(phases[i-1].At).Round(time.Millisecond)))
		}
		t.Logf("run %d: click to first event %.0f ms; phases: %s", i, first, strings.Join(steps, ", "))
		if i == 0 {
			continue
		}
		var samples [][3]any
		js(t, ctx, `window.samples`, &samples)
		growth := map[float64]bool{}
		for _, s := range samples {
			if n := s[1].(float64); n > 0 && s[2] == false {
				growth[n] = true
			}
		}
		if len(growth) < 2 {
			t.Errorf("the event count took %d distinct values while the run was live, want it to grow over time (%d samples)", len(growth), len(samples))
		}
	}
	var lanes, events string
	js(t, ctx, `document.querySelector("canvas.tl").dataset.lanes || ""`, &lanes)
	js(t, ctx, `document.getElementById("event-count").textContent`, &events)
	if lanes == "" || lanes == "0" || events == "0" {
		t.Errorf("after the run: %s lanes, %s events; want both drawn", lanes, events)
	}
	t.Logf("Run click to first event drawn: cold %.0f ms, warm %.0f ms", firstEvents[0], firstEvents[1])
	artifact(t, "run-to-first-event.txt", fmt.Sprintf("run click to first event: cold %.1f ms, warm %.1f ms\n", firstEvents[0], firstEvents[1]))
	screenshot(t, ctx, "exercise-after-run")
}

// The reference passes every check; a wrong variant fails its check, and
// the check's link moves the timeline to the event it names.
func TestBrowserSubmit(t *testing.T) {
	ts, _ := gradingLab(t)
	ctx := newBrowser(t)
	ex := exercise(t, "headofline")
	openExercise(t, ctx, ts.URL, ex.Slug)

	setCode(t, ctx, ex.Reference)
	clickRun(t, ctx, `[data-testid="submit"]`)
	var verdict string
	var failing int
	js(t, ctx, `document.querySelector('[data-testid="verdict"]').textContent`, &verdict)
	js(t, ctx, `document.querySelectorAll('[data-testid="checks"] tr.bad').length`, &failing)
	if verdict != "passed" || failing != 0 {
		t.Errorf("reference: verdict %q with %d failing checks, want passed and none", verdict, failing)
	}
	screenshot(t, ctx, "result-reference")

	var v exercises.Variant
	for _, x := range ex.Variants {
		if len(x.Fails) == 1 && x.Fails[0] == "no-head-of-line" {
			v = x
			break
		}
	}
	setCode(t, ctx, v.Source)
	clickRun(t, ctx, `[data-testid="submit"]`)
	var jump string
	js(t, ctx, `(document.querySelector('[data-testid="jump-no-head-of-line"]')||{}).textContent || ""`, &jump)
	if jump == "" {
		t.Fatalf("the failing check %s of variant %s has no link into the timeline", v.Fails[0], v.Name)
	}
	var ref struct {
		Scenario, Backend string
		Seq               uint64
		Time              int64 `json:"time_ns"`
		Loop              int
	}
	js(t, ctx, `window.labLastResult.checks.find(c => c.id === "no-head-of-line").ref`, &ref)
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="jump-no-head-of-line"]`)); err != nil {
		t.Fatal(err)
	}
	var view struct {
		Start, End, Cursor float64
		Selected           *struct {
			Track string
			Loop  int
			Seq   uint64
		}
	}
	waitJS(t, ctx, `!!window.labTimeline.view().selected`, "the timeline to select the event")
	js(t, ctx, `window.labTimeline.view()`, &view)
	if view.Selected == nil || view.Selected.Seq != ref.Seq || view.Selected.Track != ref.Scenario+"-"+ref.Backend ||
		float64(ref.Time) < view.Start || float64(ref.Time) > view.End {
		t.Errorf("after the check's link the timeline shows %+v (selected %+v), want event %d of %s-%s at %d ns in view",
			view, view.Selected, ref.Seq, ref.Scenario, ref.Backend, ref.Time)
	}
	screenshot(t, ctx, "result-variant-jump")
}

// A compile error lands on its line in the editor.
func TestBrowserCompileError(t *testing.T) {
	ts, _ := gradingLab(t)
	ctx := newBrowser(t)
	ex := exercise(t, "connect")
	openExercise(t, ctx, ts.URL, ex.Slug)
	// Break the starter on a known line: line 6 calls an undefined name.
	lines := strings.SplitAfter(string(ex.Starter), "\n")
	var broken strings.Builder
	want := 0
	for i, l := range lines {
		broken.WriteString(l)
		if want == 0 && strings.HasPrefix(strings.TrimSpace(l), "func ") && strings.HasSuffix(strings.TrimSpace(l), "{") {
			broken.WriteString("\tundefinedThing()\n")
			want = i + 2
		}
	}
	setCode(t, ctx, []byte(broken.String()))
	clickRun(t, ctx, `[data-testid="run"]`)
	var lines2, verdict string
	js(t, ctx, `document.querySelector('.cm-editor').dataset.problemLines`, &lines2)
	js(t, ctx, `document.querySelector('[data-testid="verdict"]').textContent`, &verdict)
	if verdict != "compile-error" || lines2 != fmt.Sprint(want) {
		t.Errorf("verdict %q, problem lines %q; want compile-error on line %d", verdict, lines2, want)
	}
	screenshot(t, ctx, "compile-error")

	// A reload loses nothing: the code is the student's, and the run the
	// page followed is shown again, with its problem on the same line.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(`.cm-editor`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!!document.querySelector('[data-testid="verdict"]')`, "the followed run after a reload")
	var code string
	js(t, ctx, `window.labEditor.getValue()`, &code)
	js(t, ctx, `document.querySelector('.cm-editor').dataset.problemLines`, &lines2)
	if code != broken.String() || lines2 != fmt.Sprint(want) {
		t.Errorf("after a reload the editor has the starter (%v) and problem lines %q; want the student's code and line %d",
			code == string(ex.Starter), lines2, want)
	}
}

// A recorded run replays on its own page, the toolbar moves the time
// window, it exports as Chrome Trace Event JSON, and it compares with the
// reference.
func TestBrowserReplayExportCompare(t *testing.T) {
	ts, store := gradingLab(t)
	ctx := newBrowser(t)
	ex := exercise(t, "connect")
	openExercise(t, ctx, ts.URL, ex.Slug)
	if err := chromedp.Do(ctx, chromedp.SetValue(`[data-testid="backend"]`, "both")); err != nil {
		t.Fatal(err)
	}
	clickRun(t, ctx, `[data-testid="run"]`)
	var href string
	js(t, ctx, `document.getElementById("run-link").getAttribute("href")`, &href)
	id := strings.TrimPrefix(href, "/runs/")

	// Replay.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+href)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!!document.querySelector('[data-testid="verdict"]') && window.labTimeline.eventCount() > 0`, "the replay")
	type view struct{ Start, End, Cursor float64 }
	var v0, v1 view
	js(t, ctx, `window.labTimeline.view()`, &v0)
	click := func(sel string) {
		if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	click(`[data-testid="step-fwd"]`)
	js(t, ctx, `window.labTimeline.view()`, &v1)
	if v1.Cursor == v0.Cursor {
		t.Errorf("step forward left the cursor at %v", v1.Cursor)
	}
	c1 := v1.Cursor
	click(`[data-testid="step-fwd"]`)
	click(`[data-testid="step-back"]`)
	js(t, ctx, `window.labTimeline.view()`, &v1)
	if v1.Cursor != c1 {
		t.Errorf("step forward then back moved the cursor from %v to %v", c1, v1.Cursor)
	}
	// Play, then pause: the cursor has moved on.
	js(t, ctx, `window.labTimeline.seek(0), true`, new(bool))
	if err := chromedp.Do(ctx, chromedp.SetValue(`[data-testid="speed"]`, "100000000")); err != nil {
		t.Fatal(err)
	}
	js(t, ctx, `document.querySelector('[data-testid="speed"]').dispatchEvent(new Event("change")), true`, new(bool))
	click(`[data-testid="play"]`)
	waitJS(t, ctx, `window.labTimeline.view().cursor > 0`, "playback to move the cursor")
	click(`[data-testid="play"]`)
	var playing bool
	js(t, ctx, `window.labTimeline.playing()`, &playing)
	if playing {
		t.Errorf("the second click on play did not pause")
	}
	// Scrub to the middle: the cursor follows, and the window contains it.
	js(t, ctx, `(() => { const s = document.querySelector('[data-testid="scrub"]'); s.value = "500"; s.dispatchEvent(new Event("input")); return true; })()`, new(bool))
	var v2 view
	js(t, ctx, `window.labTimeline.view()`, &v2)
	if v2.Cursor <= 0 || v2.Cursor < v2.Start || v2.Cursor > v2.End {
		t.Errorf("after scrubbing to the middle the view is %+v; want the cursor inside it", v2)
	}
	screenshot(t, ctx, "replay")

	// Export every track; each is Chrome Trace Event JSON with one
	// complete slice per system call of the recording.
	traces, err := store.Traces(context.Background(), id)
	if err != nil || len(traces) == 0 {
		t.Fatalf("stored traces: %d, %v", len(traces), err)
	}
	for _, tr := range traces {
		var link string
		js(t, ctx, fmt.Sprintf(`document.querySelector('[data-testid="export-%s"]').getAttribute("href")`, tr.Track), &link)
		resp, err := http.Get(ts.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			TraceEvents []struct {
				Cat string `json:"cat"`
				Ph  string `json:"ph"`
			} `json:"traceEvents"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("export %s: not JSON: %v", tr.Track, err)
		}
		decoded, err := trace.Decode(bytes.NewReader(tr.Data), trace.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		// A call that blocked is recorded at its begin too; it is still
		// one call.
		want, got := trace.Summarize(decoded).Syscalls, 0
		for _, e := range doc.TraceEvents {
			if e.Cat == "syscall" && e.Ph == "X" {
				got++
			}
		}
		if got != want || len(doc.TraceEvents) < len(decoded.Events)/2 {
			t.Errorf("export %s: %d syscall slices of %d events, want %d syscalls of %d events", tr.Track, got, len(doc.TraceEvents), want, len(decoded.Events))
		}
	}

	// Compare with the reference.
	click(`[data-testid="compare-reference"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`[data-page="compare"]`)); err != nil {
		t.Fatalf("the comparison page: %v", err)
	}
	waitJS(t, ctx, `location.pathname === "/compare" && !!document.querySelector('[data-testid="result-b"] [data-testid="verdict"]') && !!document.querySelector('[data-testid="result-a"] [data-testid="verdict"]')`, "the comparison")
	var lanes int
	js(t, ctx, `Number(document.querySelector("canvas.tl").dataset.lanes || 0)`, &lanes)
	if lanes < 4 {
		t.Errorf("the comparison draws %d lanes, want both runs' lanes", lanes)
	}
	screenshot(t, ctx, "compare")
}

// artifact writes a measurement beside the screenshots.
func artifact(t *testing.T, name, text string) {
	dir := os.Getenv("LAB_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
}
