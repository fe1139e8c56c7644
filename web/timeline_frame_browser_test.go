package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine/trace"
)

// TestTimelineJumpFrames jumps, on a 1280×720 laptop screen, from a view of
// the whole run to a call of a few microseconds and to an event low in the
// second track: each time the event is framed with context (at least 8 px
// wide, its lane in the window, the page scrolled if need be) and the view
// never starts before the run did.
func TestTimelineJumpFrames(t *testing.T) {
	tr := smallTrace()
	ctx := openTimeline(t, "small", tr)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	find := func(track int, kind trace.Kind, name string) synthEvent {
		for _, e := range tr.Tracks[track].evs {
			if e.Kind == kind && e.Name == name {
				return e
			}
		}
		t.Fatalf("no %s %q in track %d", kind, name, track)
		return synthEvent{}
	}
	for _, c := range []struct {
		name, track string
		e           synthEvent
	}{
		// 8 µs, 30 µs into the run: half the old view was negative time.
		{"the first call", "refused-epoll", find(0, trace.KindSyscall, "socket")},
		{"a 6 µs call", "refused-epoll", find(0, trace.KindSyscall, "getsockopt")},
		// The last lane of the second track, below a laptop's fold.
		{"low in the second track", "refused-uring", find(1, trace.KindCounter, "cq_ready")},
	} {
		t.Run(c.name, func(t *testing.T) {
			evalJS[any](t, ctx, `window.scrollTo(0, 0), tl.fit(), frames(2)`)
			if ok := evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo(%q, %d, %d)`, c.track, c.e.Loop, c.e.Seq)); !ok {
				t.Fatalf("jumpTo(%s, %d) = false", c.track, c.e.Seq)
			}
			type framed struct {
				Start, End, X0, X1, LaneTop, LaneBottom, CanvasTop, CanvasBottom, Window float64
			}
			f := evalJS[framed](t, ctx, `(async () => {
				await frames(2);
				const s = tl.sel, ext = tl._extent(s.tr, s.idx), v = tl.view();
				const type = tl._laneTypeOf(s.tr, s.idx);
				const lane = tl.layout.find(l => l.tr === s.tr && l.type === type.type && l.key === type.key);
				const r = document.getElementById("tl").getBoundingClientRect();
				const top = r.top + 34 + lane.y - tl.scrollY; // 34: the time axis
				return {Start: v.start, End: v.end, X0: tl.timeToX(ext[0]), X1: tl.timeToX(ext[1]),
					LaneTop: top, LaneBottom: top + lane.h,
					CanvasTop: r.top, CanvasBottom: r.bottom, Window: window.innerHeight};
			})()`)
			if f.Start < 0 {
				t.Errorf("view starts at %v ns, before the run", f.Start)
			}
			if w := f.X1 - f.X0; c.e.Dur > 0 && w < 8 {
				t.Errorf("the event is %.1f px wide (view %v–%v ns), want at least 8", w, f.Start, f.End)
			}
			if f.LaneTop < 0 || f.LaneBottom > f.Window || f.LaneTop < f.CanvasTop || f.LaneBottom > f.CanvasBottom {
				t.Errorf("the event's lane is at %v–%v px, the canvas at %v–%v, the window 0–%v: want the lane in both",
					f.LaneTop, f.LaneBottom, f.CanvasTop, f.CanvasBottom, f.Window)
			}
		})
	}
	// What the window shows, not the whole page: the lane, scrolled to.
	windowShot(t, ctx, "timeline-jump-framed-1280x720")
}
