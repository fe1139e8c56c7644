package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
