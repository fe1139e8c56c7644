package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// The timeline for every student: its events as a list that shares the
// canvas's selection, the whole of it under the keyboard with its focus in
// sight, a palette that never says error or failure by colour alone, and a
// dark theme that passes the accessibility audit.

// trace returns the synthetic track as the engine records it.
func (tr *synthTrack) trace(t *testing.T) *trace.Trace {
	t.Helper()
	out := &trace.Trace{Version: trace.Version, Names: tr.Names}
	for _, e := range tr.evs {
		var op uint64
		switch v := e.Op.(type) {
		case int64:
			op = uint64(v)
		case string:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			op = n
		}
		out.Events = append(out.Events, trace.Event{Seq: uint64(e.Seq), Time: e.Time, Dur: e.Dur, Op: op, Res: e.Res,
			Arg0: e.Arg0, Arg1: e.Arg1, Fd: e.Fd, Name: trace.NameID(tr.ids[e.Name]), Loop: e.Loop, Kind: e.Kind, Phase: e.Phase})
	}
	return out
}

// replayLab starts a lab with no grader whose store holds one finished run
// of tr, as the listener scenario on epoll, and returns it and the run's id.
func replayLab(t *testing.T, tr *trace.Trace) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Exercises: catalog.All(), Store: store})
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		t.Fatal(err)
	}
	track := grading.Track("listener", engine.Epoll)
	res, _ := json.Marshal(grading.Result{ID: "r", Exercise: "connect", Verdict: grading.Ran, Message: "ran",
		Runs: []grading.RunSummary{{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events)}}})
	now := time.Now()
	run := labs.NewRunID(now)
	for _, err := range []error{
		store.CreateRun(ctx, &labs.Run{ID: run, Exercise: "connect", Mode: labs.ModeRun, Client: "reference", Code: "package handler", Created: now}),
		store.StartRun(ctx, run, now),
		store.FinishRun(ctx, run, labs.Outcome{Verdict: string(grading.Ran), Result: res, Finished: now}, []labs.Trace{{Track: track, Data: buf.Bytes()}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ts, run
}

// openReplay opens run's replay page and waits for its n events.
func openReplay(t *testing.T, ctx context.Context, base, run string, n int) {
	t.Helper()
	steps(t, ctx)("open the replay", chromedp.Navigate(base+"/runs/"+run), chromedp.WaitVisible(`[data-testid="timeline"]`))
	waitJS(t, ctx, fmt.Sprintf(`document.getElementById("event-count").textContent === "%d" && labTimeline.view().traceEnd > 0`, n), "the run to load")
	evalJS[any](t, ctx, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`)
}

// listState is what the event list shows.
type listState struct {
	Rows     int    `json:"rows"`     // rows in the document
	SetSize  int    `json:"setSize"`  // rows in the list
	Selected string `json:"selected"` // the selected row's seq, "" if none
	Active   string `json:"active"`   // the seq of the row aria-activedescendant names
	Track    string `json:"track"`    // the track picked
	Focused  bool   `json:"focused"`  // the list has the focus
	Status   string `json:"status"`   // what the list said aloud last
}

const readList = `(() => {
	const box = document.querySelector('[data-testid="event-list"]');
	const rows = box.querySelectorAll('[role="option"]');
	const sel = box.querySelector('[aria-selected="true"]');
	const act = box.getAttribute("aria-activedescendant");
	const a = act ? document.getElementById(act) : null;
	return {rows: rows.length, setSize: rows.length ? Number(rows[0].getAttribute("aria-setsize")) : 0,
		selected: sel ? sel.dataset.seq : "", active: a ? a.dataset.seq : "",
		track: document.querySelector('[data-testid="event-list-track"]').selectedOptions[0].textContent,
		focused: document.activeElement === box,
		status: document.querySelector('[data-testid="event-list-status"]').textContent};
})()`

// TestBrowserTimelineEventList: on a replay page the run's events are a
// list next to the canvas. Selecting on the canvas selects the row, and
// selecting a row (by click or by key) selects the event on the canvas.
func TestBrowserTimelineEventList(t *testing.T) {
	st := idleTrace()
	ts, run := replayLab(t, st.Tracks[0].trace(t))
	ctx := newBrowser(t)
	openReplay(t, ctx, ts.URL, run, len(st.Tracks[0].evs))

	l := evalJS[listState](t, ctx, readList)
	if l.SetSize != len(st.Tracks[0].evs) || l.Rows == 0 || l.Selected != "" || l.Track != "listener on epoll" {
		t.Fatalf("the list at first: %+v; want %d events of listener on epoll, none selected", l, len(st.Tracks[0].evs))
	}
	if role := evalJS[string](t, ctx, `document.querySelector('[data-testid="event-list"]').getAttribute("role")`); role != "listbox" {
		t.Errorf("the list's role = %q, want listbox", role)
	}

	// The canvas's selection is the list's.
	doIt := steps(t, ctx)
	for range 3 {
		doIt("step forward", chromedp.Click(`[data-testid="step-fwd"]`))
	}
	seq := evalJS[int](t, ctx, `labTimeline.view().selected.seq`)
	l = evalJS[listState](t, ctx, readList)
	if l.Selected != strconv.Itoa(seq) || l.Active != l.Selected {
		t.Errorf("after three steps on the canvas (seq %d) the list shows %+v", seq, l)
	}
	if !strings.HasPrefix(l.Status, "Selected: ") || !strings.Contains(l.Status, "connect(fd 5) = -115 EINPROGRESS") {
		t.Errorf("the list said %q, want the selected event read out", l.Status)
	}

	// A click on a row selects its event on the canvas.
	rowSel := func(seq int) string {
		return fmt.Sprintf(`[data-testid="event-list"] [role="option"][data-seq="%d"]`, seq)
	}
	doIt("click the first row", chromedp.Click(rowSel(1)))
	if v := evalJS[viewState](t, ctx, `labTimeline.view()`); v.Selected == nil || v.Selected.Seq != 1 {
		t.Errorf("after a click on the first row the canvas selects %+v, want seq 1", v.Selected)
	}
	// Keys in the list move the selection on the canvas.
	for _, c := range []struct {
		key  string
		want int
	}{{kb.ArrowDown, 2}, {kb.ArrowDown, 3}, {kb.ArrowUp, 2}, {kb.End, len(st.Tracks[0].evs)}, {kb.Home, 1}, {kb.PageDown, 0}} {
		doIt("press "+c.key+" in the list", chromedp.KeyEvent(c.key))
		v := evalJS[viewState](t, ctx, `labTimeline.view()`)
		l = evalJS[listState](t, ctx, readList)
		if v.Selected == nil || (c.want > 0 && v.Selected.Seq != int64(c.want)) || l.Selected != strconv.FormatInt(v.Selected.Seq, 10) || !l.Focused {
			t.Errorf("after %q in the list: canvas selects %+v, list %+v; want seq %d in both, the list focused", c.key, v.Selected, l, c.want)
		}
	}
	// Enter shows the event: it is framed on the canvas, wide enough to see.
	doIt("select connect", chromedp.Click(rowSel(3)), chromedp.KeyEvent(kb.Enter))
	w := evalJS[float64](t, ctx, `(() => { const s = labTimeline.view().selected; return labTimeline.timeToX(s.time + 20000) - labTimeline.timeToX(s.time); })()`)
	if w < 8 {
		t.Errorf("after Enter on connect (20 µs), it is %.1f px wide on the canvas, want it framed", w)
	}
	evalJS[any](t, ctx, `document.querySelector(".tl-below").scrollIntoView({block: "center"}), true`)
	windowShot(t, ctx, "timeline-event-list")
}

// TestBrowserTimelineKeyboard drives the timeline with the keyboard alone:
// Tab reaches the canvas and its focus ring shows; keys select and step,
// zoom, expand the collapsed gap, fit, go to the list and back, and fold
// a run.
func TestBrowserTimelineKeyboard(t *testing.T) {
	st := idleTrace()
	ts, run := replayLab(t, st.Tracks[0].trace(t))
	ctx := newBrowser(t)
	openReplay(t, ctx, ts.URL, run, len(st.Tracks[0].evs))
	press := func(key, what string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	focused := func() string {
		return evalJS[string](t, ctx, `document.activeElement ? document.activeElement.getAttribute("data-testid") || document.activeElement.tagName : ""`)
	}
	for i := 0; focused() != "timeline"; i++ {
		if i == 40 {
			t.Fatalf("40 Tabs did not reach the canvas (focus on %s)", focused())
		}
		press(kb.Tab, "Tab")
	}
	type ring struct {
		Style   string  `json:"style"`
		Width   float64 `json:"width"`
		Color   string  `json:"color"`
		Visible bool    `json:"visible"`
	}
	r := evalJS[ring](t, ctx, `(() => { const c = document.querySelector("canvas.tl"), s = getComputedStyle(c);
		return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, visible: c.matches(":focus-visible")}; })()`)
	if !r.Visible || r.Style == "none" || r.Width < 2 {
		t.Errorf("the focused canvas's outline: %+v, want a ring of at least 2 px", r)
	}
	evalJS[any](t, ctx, `document.querySelector("canvas.tl").scrollIntoView({block: "center"}), true`)
	windowShot(t, ctx, "timeline-keyboard-focus")

	sel := func() *selectedEvent { return evalJS[viewState](t, ctx, `labTimeline.view()`).Selected }
	press(".", ".")
	first := sel()
	if first == nil || first.Seq != 1 {
		t.Fatalf("after . the selection is %+v, want the first event", first)
	}
	press(".", ".")
	press(".", ".")
	press(",", ",")
	if s := sel(); s == nil || s.Seq != 2 {
		t.Errorf("after . . . , the selection is %+v, want the second event", s)
	}
	span := func() float64 { v := evalJS[viewState](t, ctx, `labTimeline.view()`); return v.End - v.Start }
	before := span()
	press("+", "+")
	if after := span(); after >= before {
		t.Errorf("+ zoomed from %v ns to %v ns, want in", before, after)
	}
	before = span()
	press("-", "-")
	if after := span(); after <= before {
		t.Errorf("- zoomed from %v ns to %v ns, want out", before, after)
	}
	press("f", "f")
	if n := evalJS[int](t, ctx, `labTimeline.gaps().length`); n != 1 {
		t.Fatalf("the fitted view has %d collapsed gaps, want the 480 ms one", n)
	}
	press("x", "x")
	if n := evalJS[int](t, ctx, `labTimeline.gaps().length`); n != 0 {
		t.Errorf("after x, %d gaps are collapsed, want none", n)
	}
	frame := func() {
		evalJS[any](t, ctx, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`)
	}
	press("g", "g")
	frame()
	if on := evalJS[bool](t, ctx, `labTimeline.view().collapseIdle || document.querySelector('[data-testid="collapse-idle"]').checked`); on {
		t.Errorf("after g, idle is still collapsed (or the checkbox says so)")
	}
	press("g", "g")
	frame()
	if on := evalJS[bool](t, ctx, `labTimeline.view().collapseIdle && document.querySelector('[data-testid="collapse-idle"]').checked`); !on {
		t.Errorf("after g again, idle is not collapsed (or the checkbox does not say so)")
	}
	// Enter goes to the list; its keys step; shift-Tab twice (past the
	// list's track picker) comes back to the canvas, where Escape clears
	// the selection.
	press(kb.Enter, "Enter")
	if f := focused(); f != "event-list" {
		t.Fatalf("after Enter on the canvas the focus is on %s, want the event list", f)
	}
	press(kb.ArrowDown, "ArrowDown")
	if s := sel(); s == nil || s.Seq != 3 {
		t.Errorf("after ArrowDown in the list the selection is %+v, want the third event", s)
	}
	for range 2 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))); err != nil {
			t.Fatal(err)
		}
	}
	if f := focused(); f != "timeline" {
		t.Errorf("shift-Tab twice from the list focuses %s, want the canvas", f)
	}
	press(kb.Escape, "Escape")
	if s := sel(); s != nil {
		t.Errorf("after Escape the selection is %+v, want none", s)
	}
	// c folds the run's lanes away, as a click on its name does, and back.
	lanes := func() int {
		return evalJS[int](t, ctx, `labTimeline.lanes().filter((l) => l.type !== "header").length`)
	}
	open := lanes()
	press("c", "c")
	if n := lanes(); n != 0 {
		t.Errorf("after c, %d lanes of %d are shown, want the run folded", n, open)
	}
	press("c", "c")
	if n := lanes(); n != open {
		t.Errorf("after c again, %d lanes, want %d", n, open)
	}
}

// TestBrowserTimelineDarkTheme: with the system in dark mode, the pages and
// the canvas are dark, and every page passes axe with no serious or
// critical violation.
func TestBrowserTimelineDarkTheme(t *testing.T) {
	done := make(chan struct{})
	close(done)
	ts, _, store := testLab(t, turnGrader{turns: done}, nil)
	w := seedA11y(t, store)
	bctx := newBrowser(t)
	if _, err := chromedp.Call(bctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	events := func(n int) string {
		return fmt.Sprintf(`document.getElementById("event-count").textContent === "%d"`, n)
	}
	pages := []a11yPage{
		{name: "catalogue-anonymous", url: fixedURL("/"), ready: present(`[data-testid="catalogue"]`)},
		{name: "sign-in", url: fixedURL("/signin"), ready: present(`[data-testid="sign-in-form"]`)},
		{name: "replay", as: "ada", url: fixedURL("/runs/" + w.adaRun), ready: events(5) + ` && ` + present(`[data-testid="verdict"]`)},
		{name: "compare", as: "ada", url: fixedURL("/compare?a=" + w.adaRun + "&b=" + w.adaRun2), ready: events(10)},
		{name: "people", as: "ada", url: fixedURL("/people"), ready: present(`[data-testid="add-person"]`)},
		{name: "courses", as: "ada", url: fixedURL("/courses"), ready: present(`[data-testid="new-course"]`)},
		{name: "course-staff", as: "ada", url: fixedURL("/courses/c-os"), ready: present(`[data-testid="roster"]`)},
		{name: "course-gradebook", as: "ada", url: fixedURL("/courses/c-os/grades"), ready: present(`[data-testid="course-grades"]`)},
		{name: "assignment-staff", as: "ada", url: fixedURL("/assignments/a-1"), ready: present(`[data-testid="gradebook"]`)},
		{name: "dashboard", as: "ada", url: fixedURL("/assignments/a-1/dashboard"), ready: present(`[data-testid="dash-connect"]`)},
		{name: "submissions", as: "ada", url: fixedURL("/assignments/a-1/students/u-bob"), ready: present(`[data-testid="submissions"]`)},
		{name: "regrade", as: "ada", url: fixedURL("/regrades/rg-1"), ready: present(`[data-testid="regrade-items"]`)},
		{name: "settings", as: "ada", url: fixedURL("/settings"), ready: present(`[data-testid="settings-form"]`)},
		{name: "catalogue-student", as: "bob", url: fixedURL("/"), ready: present(`[data-testid="open-assignments"]`)},
		{name: "assignment-student", as: "bob", url: fixedURL("/assignments/a-1"), ready: present(`[data-testid="my-items"]`)},
		{name: "replay-submission", as: "bob", url: fixedURL("/runs/" + w.bobSub), ready: events(5) + ` && ` + present(`[data-testid="checks"]`)},
	}
	for _, ex := range catalog.All() {
		pages = append(pages, a11yPage{name: "exercise-" + ex.Slug, as: "bob", url: fixedURL("/exercises/" + ex.Slug), ready: present(`.cm-editor`)})
	}
	who := ""
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			if p.as != who {
				if who != "" {
					steps(t, bctx)("sign out", chromedp.Click(`[data-testid="sign-out"]`), chromedp.WaitVisible(`[data-testid="sign-in-form"]`))
				}
				who = ""
				if p.as != "" {
					steps(t, bctx)(p.as+" signs in",
						chromedp.Navigate(ts.URL+"/signin"),
						chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
						chromedp.SendKeys(`[data-testid="email"]`, p.as+"@example.edu"),
						chromedp.SendKeys(`[data-testid="password"]`, p.as+"'s password"),
						chromedp.Click(`[data-testid="sign-in-form"] [data-testid="submit"]`),
						chromedp.WaitVisible(`[data-testid="signed-in-as"]`),
					)
				}
				who = p.as
			}
			steps(t, bctx)("open "+p.url(), chromedp.Navigate(ts.URL+p.url()))
			waitJS(t, bctx, p.ready, p.name+" to be ready")
			// The page is dark: its background, and the canvas's.
			if bg := evalJS[float64](t, bctx, luminanceOf(`getComputedStyle(document.body).backgroundColor`)); bg > 0.05 {
				t.Errorf("the page's background has luminance %.2f, want a dark one", bg)
			}
			if evalJS[bool](t, bctx, `!!window.labTimeline`) {
				evalJS[any](t, bctx, `labTimeline.stepForward(), new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`)
				px := evalJS[[]float64](t, bctx, `(() => { const c = document.querySelector("canvas.tl"), d = labTimeline.dpr;
					const p = c.getContext("2d").getImageData(Math.round((labTimeline.W - 20) * d), Math.round((labTimeline.H - 4) * d), 1, 1).data;
					return [p[0], p[1], p[2]]; })()`)
				if px[0]+px[1]+px[2] > 3*60 {
					t.Errorf("the canvas's background is rgb%v, want dark", px)
				}
				if pal := evalJS[string](t, bctx, `labTimeline.palette().bg`); pal != "#0d1117" {
					t.Errorf("the canvas's palette has bg %q, want the dark theme's #0d1117", pal)
				}
			}
			if p.name == "replay" || p.name == "exercise-connect" {
				screenshot(t, bctx, "dark-"+p.name)
			}
			axeAudit(t, bctx, "dark-"+p.name)
		})
	}
}

// luminanceOf is a JavaScript expression: the relative luminance of the
// CSS colour expr evaluates to.
func luminanceOf(expr string) string {
	return `(() => { const m = (` + expr + `).match(/[\d.]+/g).map(Number);
		const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * lin(m[0]) + 0.7152 * lin(m[1]) + 0.0722 * lin(m[2]); })()`
}

// paletteTrace has, on fd 7, a call that failed and one that would block,
// wide enough to see, and three completions: one that succeeded, one that
// failed and one that would block (of ops whose submits are not in the
// trace, so that no op in flight is drawn behind them).
func paletteTrace() *synthTrace {
	st := newSynthTrace()
	e := st.track("palette-epoll", "palette · epoll")
	e.begin(0, "on-read", 10*us, 0, nil)
	e.syscall(0, "read", 20*us, 20*us, 7, -11)
	e.syscall(0, "write", 60*us, 20*us, 7, -104)
	e.end(0, "on-read", 95*us, 10*us, nil)
	e.complete(0, int64(1), "RECV", 110*us, 7, 64, 0)
	e.complete(0, int64(2), "SEND", 130*us, 7, -104, 0)
	e.complete(0, int64(3), "RECV", 150*us, 7, -11, 0)
	return st
}

// TestTimelinePalette checks that what colour says on the canvas is said
// otherwise too, where colour-blind eyes could not tell it: it measures
// how far apart the palette's meaningful colours stay under simulated
// protanopia, deuteranopia and tritanopia (the table is saved as
// timeline-palette.txt), and checks the shapes that back them up: a call
// that failed is cross-hatched where one that would block is plain, and
// a completion that failed is a cross where one that succeeded is a dot
// and one that would block a ring.
func TestTimelinePalette(t *testing.T) {
	ctx := openTimeline(t, "palette", paletteTrace())
	pal := evalJS[map[string]string](t, ctx, `tl.palette()`)
	pairs := [][2]string{{"error", "blocked"}, {"error", "ok"}, {"error", "syscall"}, {"blocked", "syscall"}, {"ok", "wakeup"}, {"error", "wakeup"}}
	var report strings.Builder
	fmt.Fprintf(&report, "ΔE (CIE76) between the timeline's colours, as seen with each kind of vision\n%-18s %8s %8s %8s %8s\n", "pair", "normal", "protan", "deutan", "tritan")
	for _, p := range pairs {
		fmt.Fprintf(&report, "%-18s", p[0]+"/"+p[1])
		for _, v := range []cvd{normalVision, protanopia, deuteranopia, tritanopia} {
			a, b := hexRGB(t, pal[p[0]]), hexRGB(t, pal[p[1]])
			fmt.Fprintf(&report, " %8.1f", deltaE(v.see(a), v.see(b)))
		}
		report.WriteString("\n")
	}
	t.Log("\n" + report.String())
	if err := os.MkdirAll(artifactsDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(), "timeline-palette.txt"), []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Under every vision, errors stand apart from successes by lightness
	// and hue enough to be told at a glance (ΔE ≥ 10); error and would
	// block may come close, and shapes tell them apart (below).
	for _, v := range []cvd{normalVision, protanopia, deuteranopia, tritanopia} {
		for _, p := range [][2]string{{"error", "syscall"}, {"error", "ok"}} {
			if d := deltaE(v.see(hexRGB(t, pal[p[0]])), v.see(hexRGB(t, pal[p[1]]))); d < 10 {
				t.Errorf("%s and %s are ΔE %.1f apart with %s vision, want at least 10", p[0], p[1], d, v.name)
			}
		}
	}

	evalJS[any](t, ctx, `tl.setView(0, 170e3), frames(2)`)
	screenshot(t, ctx, "timeline-palette")
	// As a student with deuteranopia, and one who sees no colour, would.
	for _, v := range []emulation.SetEmulatedVisionDeficiencyType{emulation.SetEmulatedVisionDeficiencyTypeDeuteranopia, emulation.SetEmulatedVisionDeficiencyTypeAchromatopsia} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedVisionDeficiency, emulation.SetEmulatedVisionDeficiencyParams{Type: v}); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "timeline-palette-"+string(v))
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedVisionDeficiency, emulation.SetEmulatedVisionDeficiencyParams{Type: emulation.SetEmulatedVisionDeficiencyTypeNone}); err != nil {
		t.Fatal(err)
	}
	// colours lists the distinct colours (to 4 bits a channel) along a row
	// of the loop lane's syscalls between two times, and how many pixels
	// have each.
	colours := func(t0, t1 int) map[string]int {
		return evalJS[map[string]int](t, ctx, fmt.Sprintf(`(() => {
			const d = tl.dpr || 1, y = Math.round((tl.laneTop("palette-epoll", "loop", 0) + 37 + 5) * d);
			const x0 = Math.round((tl.timeToX(%d) + 2) * d), x1 = Math.round((tl.timeToX(%d) - 2) * d);
			const p = tl.ctx.getImageData(x0, y, x1 - x0, 1).data, out = {};
			for (let i = 0; i < p.length; i += 4) { const k = [p[i], p[i + 1], p[i + 2]].map(v => (v >> 4).toString(16)).join(""); out[k] = (out[k] || 0) + 1; }
			return out;
		})()`, t0, t1))
	}
	striped := func(c map[string]int) bool {
		total, big := 0, 0
		for _, n := range c {
			total += n
		}
		for _, n := range c {
			if n*100 >= total*15 {
				big++
			}
		}
		return big >= 2
	}
	// Bars narrow enough to carry no label.
	evalJS[any](t, ctx, `tl.setView(0, 700e3), frames(2)`)
	if c := colours(20*us, 40*us); striped(c) {
		t.Errorf("the read that would block is not plain: colours %v", c)
	}
	if c := colours(60*us, 80*us); !striped(c) {
		t.Errorf("the write that failed is not hatched: colours %v", c)
	}
	// shape samples a completion's mark on fd 7: inked or not at its
	// centre, 2.5 px to either side and 1.5 px along a diagonal.
	type shape struct{ Centre, Side, Diagonal bool }
	shapeAt := func(ns int) shape {
		return evalJS[shape](t, ctx, fmt.Sprintf(`(() => {
			const d = tl.dpr || 1, x = tl.timeToX(%d), y = tl.laneTop("palette-epoll", "fd", 7) + 11 + 1;
			const px = (dx, dy) => tl.ctx.getImageData(Math.round((x + dx) * d), Math.round((y + dy) * d), 1, 1).data;
			const bg = px(0, -9);
			const ink = (dx, dy) => { const p = px(dx, dy); return Math.max(Math.abs(p[0] - bg[0]), Math.abs(p[1] - bg[1]), Math.abs(p[2] - bg[2])) > 100; };
			return {Centre: ink(0, 0), Side: ink(2.5, 0) && ink(-2.5, 0), Diagonal: ink(1.5, 1.5) && ink(-1.5, -1.5)};
		})()`, ns))
	}
	for _, c := range []struct {
		what string
		ns   int
		want shape
	}{
		{"succeeded: a dot", 110 * us, shape{Centre: true, Side: true, Diagonal: true}},
		{"failed: a cross", 130 * us, shape{Centre: true, Side: false, Diagonal: true}},
		{"would block: a ring", 150 * us, shape{Centre: false, Side: true}},
	} {
		got := shapeAt(c.ns)
		if got.Centre != c.want.Centre || got.Side != c.want.Side || (c.want.Diagonal && !got.Diagonal) {
			t.Errorf("the completion that %s: inked at centre/side/diagonal = %+v, want %+v", c.what, got, c.want)
		}
	}
}

// cvd simulates a kind of colour vision on linear RGB (Machado, Oliveira
// and Fernandes 2009, at full severity).
type cvd struct {
	name string
	m    [3][3]float64
}

var (
	normalVision = cvd{"normal", [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	protanopia   = cvd{"protan", [3][3]float64{{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}}}
	deuteranopia = cvd{"deutan", [3][3]float64{{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}}}
	tritanopia   = cvd{"tritan", [3][3]float64{{1.255528, -0.076749, -0.178779}, {-0.078411, 0.930809, 0.147602}, {0.004733, 0.691367, 0.303900}}}
)

// see returns the linear RGB colour c as v sees it.
func (v cvd) see(c [3]float64) [3]float64 {
	var out [3]float64
	for i := range 3 {
		for j := range 3 {
			out[i] += v.m[i][j] * c[j]
		}
		out[i] = math.Min(1, math.Max(0, out[i]))
	}
	return out
}

// hexRGB returns "#rrggbb" as linear RGB.
func hexRGB(t *testing.T, s string) [3]float64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil || len(s) != 7 {
		t.Fatalf("colour %q: not #rrggbb", s)
	}
	var out [3]float64
	for i, v := range []uint64{n >> 16, n >> 8 & 0xff, n & 0xff} {
		c := float64(v) / 255
		if c <= 0.04045 {
			out[i] = c / 12.92
		} else {
			out[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return out
}

// deltaE returns the CIE76 distance between two linear RGB colours.
func deltaE(a, b [3]float64) float64 {
	la, lb := lab(a), lab(b)
	return math.Sqrt((la[0]-lb[0])*(la[0]-lb[0]) + (la[1]-lb[1])*(la[1]-lb[1]) + (la[2]-lb[2])*(la[2]-lb[2]))
}

// lab converts linear sRGB to CIELAB under D65.
func lab(c [3]float64) [3]float64 {
	x := (0.4124*c[0] + 0.3576*c[1] + 0.1805*c[2]) / 0.95047
	y := 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	z := (0.0193*c[0] + 0.1192*c[1] + 0.9505*c[2]) / 1.08883
	f := func(v float64) float64 {
		if v > 0.008856 {
			return math.Cbrt(v)
		}
		return 7.787*v + 16.0/116
	}
	return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
}
