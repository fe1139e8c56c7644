package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine/trace"
)

// TestTimelineQuietFindings draws a finding the exercise does not grade by
// quietly: no red flag where it happened, left out of the track's count
// and said to be ungraded when selected, while a graded finding a few
// microseconds later keeps its flag.
func TestTimelineQuietFindings(t *testing.T) {
	ctx := openTimeline(t, "small", smallTrace())
	// redAt counts the red pixels of a finding's flag drawn at time ns in
	// the loop lane of refused-epoll.
	redAt := func(ns int64) int {
		return evalJS[int](t, ctx, fmt.Sprintf(`(() => {
			const x = tl.timeToX(%d), y = tl.laneTop("refused-epoll", "loop", 0);
			const d = tl.dpr || 1;
			const px = tl.ctx.getImageData(Math.round((x - 6) * d), Math.round(y * d), Math.round(12 * d), Math.round(14 * d)).data;
			let n = 0;
			for (let i = 0; i < px.length; i += 4) {
				if (px[i] > 180 && px[i + 1] < 90 && px[i + 2] < 90) n++;
			}
			return n;
		})()`, ns))
	}
	const headOfLine, longHandler = 10890e3, 10905e3
	evalJS[any](t, ctx, `tl.setView(10880e3, 10920e3), frames(2)`)
	if n := redAt(headOfLine); n == 0 {
		t.Fatalf("with every finding graded, the head-of-line flag has no red pixels: the probe cannot see a flag")
	}

	evalJS[any](t, ctx, `tl.setJudged(["long-handler", "blocking-call"]), frames(2)`)
	if n := redAt(headOfLine); n != 0 {
		t.Errorf("head-of-line, not graded: %d red pixels where it happened, want none", n)
	}
	if n := redAt(longHandler); n == 0 {
		t.Errorf("long-handler, graded: no red flag where it happened")
	}
	screenshot(t, ctx, "timeline-quiet-finding")

	// Selecting the quiet finding says it is not graded.
	p := evalJS[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`(() => {
		const r = document.getElementById("tl").getBoundingClientRect();
		return {X: r.left + tl.timeToX(%d), Y: r.top + tl.laneTop("refused-epoll", "loop", 0) + 6};
	})()`, int64(headOfLine)))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	v := viewOf(t, ctx)
	if v.Selected == nil || v.Selected.Kind != "finding" || !strings.Contains(v.Selected.Message, "waited 80.02ms") {
		t.Fatalf("after clicking the quiet finding: selected %+v, want the head-of-line finding", v.Selected)
	}
	details := evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	if !strings.Contains(details, "Not graded") || !strings.Contains(details, "head-of-line") {
		t.Errorf("details of the quiet finding = %q, want it said to be not graded", details)
	}

	// The track's count leaves the quiet one out: one graded finding, one not.
	got := evalJS[string](t, ctx, `(() => {
		const tr = tl.trackById.get("refused-epoll");
		return tr.findings.filter(f => !tl._quiet(f.code)).length + "/" + tr.findings.length;
	})()`)
	if got != "1/2" {
		t.Errorf("graded/all findings of refused-epoll = %s, want 1/2", got)
	}
}

// TestTimelineHarnessCallbacks draws the lab's harness's callbacks (a key
// in their begin's arg1) in grey, the handler's in their own colour, and
// says whose a callback is when it is selected.
func TestTimelineHarnessCallbacks(t *testing.T) {
	ctx := openTimeline(t, "small", smallTrace())
	handler := func(seq, at int64, phase trace.Phase, key string, name int) string {
		return fmt.Sprintf("[%d,%d,0,%d,%d,0,0,-1,0,0,%q,%d]", seq, at, trace.KindHandler, phase, key, name)
	}
	const key = "4611686018427387905" // beyond 2^53, as the stream sends it
	evalJS[any](t, ctx, fmt.Sprintf(`tl.clear(), tl.addTrack("t", "t"), tl.addEvents("t", 1, ["harness: end of run", "Connect (your handler)"], [%s, %s, %s, %s]), tl.setView(0, 120000), frames(2)`,
		handler(1, 1000, trace.PhaseBegin, key, 1), handler(2, 50000, trace.PhaseEnd, "0", 1),
		handler(3, 60000, trace.PhaseBegin, "0", 2), handler(4, 110000, trace.PhaseEnd, "0", 2)))
	colorAt := func(ns int) string {
		return evalJS[string](t, ctx, fmt.Sprintf(`(() => {
			const d = tl.dpr || 1, x = tl.timeToX(%d), y = tl.laneTop("t", "loop", 0) + 7 + 3;
			const p = tl.ctx.getImageData(Math.round(x * d), Math.round(y * d), 1, 1).data;
			return "#" + [p[0], p[1], p[2]].map(v => v.toString(16).padStart(2, "0")).join("");
		})()`, ns))
	}
	if got := colorAt(5000); got != "#64748b" {
		t.Errorf("the harness's callback is drawn %s, want the harness grey #64748b", got)
	}
	if got := colorAt(65000); got == "#64748b" {
		t.Errorf("the handler's callback is drawn in the harness grey")
	}
	for _, c := range []struct {
		seq  int
		want string
		not  bool
	}{{1, "the lab's harness", false}, {3, "the lab's harness", true}} {
		evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("t", 0, %d)`, c.seq))
		details := evalJS[string](t, ctx, `document.getElementById("details").textContent`)
		if strings.Contains(details, c.want) == c.not {
			t.Errorf("details of seq %d = %q; want %q in them: %v", c.seq, details, c.want, !c.not)
		}
	}
}
