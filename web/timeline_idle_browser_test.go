package web

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asynclab/asynclab/engine/trace"
)

// idleTrace is a run that is mostly waiting: the handler's first callback
// starts a connect at 0.4 ms, the loop then waits 480 ms in epoll_wait, and
// the second callback finds the socket writable, reads (EAGAIN) and
// writes (ECONNRESET).
func idleTrace() *synthTrace {
	st := newSynthTrace()
	e := st.track("idle-epoll", "idle · epoll")
	e.begin(0, "main", 400*us, 0, nil)
	e.syscall(0, "socket", 1010*us, 5*us, 5, 5)
	e.syscall(0, "connect", 1020*us, 20*us, 5, -115)
	e.end(0, "main", 1100*us, 1000*us, nil)
	e.syscall(0, "epoll_wait", 1110*us, 480_000*us, 3, 1)
	e.wakeup(0, "epoll_wait", 481_110*us, 3, 1)
	e.complete(0, int64(0), "writable", 481_112*us, 5, 0, 4)
	e.begin(0, "on-connect", 481_120*us, 481_112*us, nil)
	e.syscall(0, "getsockopt", 481_130*us, 4*us, 5, 0)
	e.syscall(0, "read", 481_140*us, 3*us, 5, -11)
	e.syscall(0, "write", 481_150*us, 6*us, 5, -104)
	e.end(0, "on-connect", 481_200*us, 481_120*us, nil)
	return st
}

// The gap in idleTrace: from the end of main to the wakeup.
const idleGapStart, idleGapEnd = 1100 * us, 481_110 * us

type gapInfo struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Label string  `json:"label"`
	X0    float64 `json:"x0"`
	X1    float64 `json:"x1"`
}

// TestTimelineIdleGaps collapses the 480 ms that idleTrace waits in the
// kernel into a narrow labelled gap, and checks that the view frames the
// handler's callbacks around it, that times, the cursor, stepping and
// playback stay right across it, and that a click (or x) expands it back
// to linear time, as g turns collapsing off and on.
func TestTimelineIdleGaps(t *testing.T) {
	ctx := openTimeline(t, "idle", idleTrace())

	// The Timeline class draws time linearly unless told otherwise.
	if n := evalJS[int](t, ctx, `tl.gaps().length`); n != 0 {
		t.Fatalf("gaps() with collapsing off = %d gaps, want none", n)
	}
	// Collapsed: one gap, labelled, narrow; the label is drawn along it.
	texts := evalJS[[]string](t, ctx, `(async () => {
		window.texts = [];
		const fillText = CanvasRenderingContext2D.prototype.fillText;
		CanvasRenderingContext2D.prototype.fillText = function (s, ...rest) {
			window.texts.push(String(s));
			return fillText.call(this, s, ...rest);
		};
		tl.setCollapseIdle(true);
		tl.fit();
		await frames(2);
		CanvasRenderingContext2D.prototype.fillText = fillText;
		return window.texts;
	})()`)
	gaps := evalJS[[]gapInfo](t, ctx, `tl.gaps()`)
	if len(gaps) != 1 {
		t.Fatalf("gaps() = %+v, want one", gaps)
	}
	g := gaps[0]
	if g.Start != idleGapStart || g.End != idleGapEnd || g.Label != "480 ms waiting in the kernel" {
		t.Errorf("gaps()[0] = %+v, want %d–%d ns labelled %q", g, idleGapStart, idleGapEnd, "480 ms waiting in the kernel")
	}
	if w := g.X1 - g.X0; w < 8 || w > 40 {
		t.Errorf("the gap is %.1f px wide, want 8 to 40", w)
	}
	if n := countOf(texts, "… 480 ms waiting in the kernel …"); n != 1 {
		t.Errorf("the gap's label is drawn %d times, want once; texts drawn: %q", n, texts)
	}
	if n := countOf(texts, "480 ms"); n != 1 {
		t.Errorf("the gap's length on the axis is drawn %d times, want once", n)
	}
	screenshot(t, ctx, "timeline-idle-collapsed")

	// The fit frames both callbacks: together they span most of the plot.
	type frame struct{ First, Last, Left, Right float64 }
	f := evalJS[frame](t, ctx, `({First: tl.timeToX(400e3), Last: tl.timeToX(481200e3), Left: 188, Right: tl.W - 12})`)
	if f.First < f.Left || f.Last > f.Right || f.Last-f.First < 0.8*(f.Right-f.Left) {
		t.Errorf("fit: the callbacks span x %.0f–%.0f of the plot's %.0f–%.0f, want most of it", f.First, f.Last, f.Left, f.Right)
	}
	if v := viewOf(t, ctx); v.Start < 0 {
		t.Errorf("fit: the view starts at %v, before the run", v.Start)
	}

	// Times map to x and back across the gap, and the cursor lands where
	// it is sent.
	for _, ns := range []int64{1050 * us, 200_000 * us, 481_140 * us} {
		back := evalJS[float64](t, ctx, fmt.Sprintf(`tl.xToTime(tl.timeToX(%d))`, ns))
		if math.Abs(back-float64(ns)) > 1 {
			t.Errorf("xToTime(timeToX(%d)) = %v", ns, back)
		}
	}
	x := func(ns int64) float64 { return evalJS[float64](t, ctx, fmt.Sprintf(`tl.timeToX(%d)`, ns)) }
	if a, in, b := x(idleGapStart-10*us), x(200_000*us), x(idleGapEnd+10*us); !(a < g.X0 && in > g.X0 && in < g.X1 && b > g.X1) {
		t.Errorf("x before, inside and after the gap = %.1f, %.1f, %.1f; the gap spans %.1f–%.1f", a, in, b, g.X0, g.X1)
	}
	evalJS[any](t, ctx, `tl.seek(481140e3)`)
	if v := viewOf(t, ctx); v.Cursor != 481_140*us {
		t.Errorf("after seek(481.14 ms) the cursor is at %v", v.Cursor)
	}

	// Stepping from main's end crosses the gap to the wakeup, in view.
	var mainEnd int64
	for _, e := range idleTrace().Tracks[0].evs {
		if e.Name == "main" && e.Phase == trace.PhaseEnd {
			mainEnd = e.Seq
		}
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.fit(), tl.jumpTo("idle-epoll", 0, %d)`, mainEnd))
	for i := 0; i < 4 && viewOf(t, ctx).Selected.Time < idleGapEnd; i++ {
		evalJS[bool](t, ctx, `tl.stepForward()`)
	}
	v := viewOf(t, ctx)
	if v.Selected == nil || v.Selected.Time != idleGapEnd || v.Selected.Kind != "wakeup" {
		t.Fatalf("stepping on from main's end selected %+v, want the wakeup at %d", v.Selected, idleGapEnd)
	}
	if sx := x(idleGapEnd); sx < 188 || sx > evalJS[float64](t, ctx, `tl.W - 12`) {
		t.Errorf("the selected wakeup is at x %.0f, out of the plot", sx)
	}

	// Playing at 1 ms a second, the 480 ms would take 8 minutes: the
	// collapsed gap is crossed at once, even without skipping idle.
	evalJS[any](t, ctx, `tl.setSkipIdle(false), tl.setSpeed(1e6), tl.seek(1090e3), tl.play()`)
	waitJS(t, ctx, fmt.Sprintf(`tl.view().cursor > %d`, idleGapEnd), "playback to cross the collapsed gap")
	evalJS[any](t, ctx, `tl.pause()`)

	// A click on the gap expands it: time is linear again, and the view
	// keeps its start and end.
	evalJS[any](t, ctx, `tl.fit(), frames(2)`)
	before := viewOf(t, ctx)
	g = evalJS[[]gapInfo](t, ctx, `tl.gaps()`)[0]
	p := evalJS[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`(() => {
		const r = document.getElementById("tl").getBoundingClientRect();
		return {X: r.left + %f, Y: r.top + tl.laneTop("idle-epoll", "fd", 5) + 5};
	})()`, (g.X0+g.X1)/2))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	evalJS[any](t, ctx, `frames(2)`)
	if n := evalJS[int](t, ctx, `tl.gaps().length`); n != 0 {
		t.Errorf("after a click on the gap, %d gaps remain collapsed, want none", n)
	}
	if v := viewOf(t, ctx); v.Start != before.Start || v.End != before.End {
		t.Errorf("expanding moved the view from [%v, %v] to [%v, %v]", before.Start, before.End, v.Start, v.End)
	}
	assertLinear(t, ctx)
	screenshot(t, ctx, "timeline-idle-expanded")

	// The keyboard: g shows time linearly, g again collapses (and forgets
	// what was expanded), x expands the gap nearest the cursor.
	evalJS[any](t, ctx, `document.getElementById("tl").focus()`)
	press := func(key string, what string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	press("g", "g")
	if on := evalJS[bool](t, ctx, `tl.view().collapseIdle`); on {
		t.Errorf("after g, collapseIdle = true, want false")
	}
	press("g", "g again")
	if n := evalJS[int](t, ctx, `tl.gaps().length`); n != 1 {
		t.Errorf("after g again, %d gaps, want the one collapsed again", n)
	}
	press("x", "x")
	if n := evalJS[int](t, ctx, `tl.gaps().length`); n != 0 {
		t.Errorf("after x, %d gaps, want none", n)
	}
	press("f", "f")
	press("0", "0")
	if v := viewOf(t, ctx); v.Start != 0 || v.End < v.TraceEnd {
		t.Errorf("after 0 (the whole run): view [%v, %v], want [0, ≥ %v]", v.Start, v.End, v.TraceEnd)
	}
	press(kb.End, "End")
}

// assertLinear checks that the view maps time to x linearly: three times
// across it fall on one line.
func assertLinear(t *testing.T, ctx context.Context) {
	t.Helper()
	xs := evalJS[[]float64](t, ctx, `(() => { const v = tl.view(); return [0, 0.37, 1].map(f => tl.timeToX(v.start + (v.end - v.start) * f)); })()`)
	want := xs[0] + 0.37*(xs[2]-xs[0])
	if math.Abs(xs[1]-want) > 0.5 {
		t.Errorf("x at 0, 37%% and 100%% of the view = %v: not linear (want %.1f in the middle)", xs, want)
	}
}

// The default view of a real run, graded in the sandbox, frames the
// handler's callbacks: from the first to the last they span most of the
// timeline's width, and the waits between are collapsed gaps, labelled.
// "Whole run" shows it all from time 0.
func TestBrowserTimelineFramesHandler(t *testing.T) {
	ts, _ := gradingLab(t)
	ctx := newBrowser(t)
	openExercise(t, ctx, ts.URL, "connect")
	clickRun(t, ctx, `[data-testid="run"]`)
	evalJS[any](t, ctx, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`)

	type span struct {
		First, Last, Left, Right float64
		N                        int
	}
	// The callbacks of the handler's (not the harness's) on every track:
	// from the first begin to the last end or, for one that never
	// returned, the call it is stuck in.
	const own = `(() => {
		const tl = labTimeline, K = tl.K;
		let first = Infinity, last = -Infinity, n = 0;
		for (const tr of tl.tracks) for (let i = 0; i < tr.n; i++) {
			if (tr.kind[i] !== K.handler || tr.phase[i] !== tl.P.begin || tr.arg1[i] !== 0) continue;
			n++;
			first = Math.min(first, tl.timeToX(tr.time[i]));
			let end = tr.pair[i] >= 0 ? tr.time[tr.pair[i]] : tr.time[i];
			if (tr.pair[i] < 0) for (let j = 0; j < tr.n; j++) {
				if (tr.kind[j] === K.syscall && tr.loop[j] === tr.loop[i] && tr.time[j] >= tr.time[i]) end = Math.max(end, tr.time[j]);
			}
			last = Math.max(last, tl.timeToX(end));
		}
		return {First: first, Last: last, Left: 188, Right: tl.W - 12, N: n};
	})()`
	s := evalJS[span](t, ctx, own)
	if s.N == 0 {
		t.Fatalf("the run has no callback of the handler's")
	}
	t.Logf("the handler's %d callbacks span x %.0f–%.0f of the plot's %.0f–%.0f", s.N, s.First, s.Last, s.Left, s.Right)
	if s.First < s.Left-1 || s.Last > s.Right+1 || s.Last-s.First < 0.65*(s.Right-s.Left) {
		t.Errorf("the default view shows the handler's callbacks at x %.0f–%.0f of the plot's %.0f–%.0f, want them to span most of it; view, callbacks, gaps: %v",
			s.First, s.Last, s.Left, s.Right, evalJS[any](t, ctx, `[labTimeline.v0, labTimeline.v1, labTimeline._ownSpan(true), labTimeline.gaps()]`))
	}
	v := evalJS[viewState](t, ctx, `labTimeline.view()`)
	if v.Start < 0 || v.End > v.TraceEnd/4 {
		t.Errorf("the default view is [%v, %v] of a %v ns run, want a frame of its start", v.Start, v.End, v.TraceEnd)
	}
	if collapse := evalJS[bool](t, ctx, `document.querySelector('[data-testid="collapse-idle"]').checked && labTimeline.view().collapseIdle`); !collapse {
		t.Errorf("idle stretches are not collapsed by default")
	}
	evalJS[any](t, ctx, `document.querySelector("canvas.tl").scrollIntoView(), true`)
	windowShot(t, ctx, "timeline-real-fit")

	// The whole run: from 0 to its end, the long waits narrow gaps.
	steps(t, ctx)("show the whole run", chromedp.Click(`[data-testid="whole-run"]`))
	evalJS[any](t, ctx, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`)
	v = evalJS[viewState](t, ctx, `labTimeline.view()`)
	if v.Start != 0 || v.End < v.TraceEnd {
		t.Errorf("Whole run: view [%v, %v], want [0, ≥ %v]", v.Start, v.End, v.TraceEnd)
	}
	gaps := evalJS[[]gapInfo](t, ctx, `labTimeline.gaps()`)
	if len(gaps) == 0 {
		t.Fatalf("the whole run has no collapsed gap; want its long waits collapsed")
	}
	var collapsed time.Duration
	for _, g := range gaps {
		collapsed += time.Duration(g.End - g.Start)
		if !strings.Contains(g.Label, " ") || g.X1-g.X0 > 40 {
			t.Errorf("gap %+v: want a label and at most 40 px", g)
		}
	}
	t.Logf("whole run: %d gaps collapse %v of %v", len(gaps), collapsed, time.Duration(v.TraceEnd))
	if collapsed < time.Duration(v.TraceEnd)/2 {
		t.Errorf("the gaps collapse %v of a %v run, want most of it", collapsed, time.Duration(v.TraceEnd))
	}
	windowShot(t, ctx, "timeline-real-whole-run")

	// Fit frames the handler again.
	steps(t, ctx)("fit", chromedp.Click(`[data-testid="fit"]`))
	if s2 := evalJS[span](t, ctx, own); s2.Last-s2.First < 0.65*(s2.Right-s2.Left) {
		t.Errorf("after Fit the callbacks span x %.0f–%.0f, want most of the plot again", s2.First, s2.Last)
	}
}
