package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/asynclab/asynclab/engine/trace"
)

// stuckTrace is the connect lesson's full-queue run, killed while the loop
// is stuck: the handler makes a blocking connect on fd 7 that never
// returns, and the harness's watchdog mark, 1.5 s later, ends the trace.
// Before it, a write that returned (its begin and its record) and what the
// handler's own epoll_wait on epoll fd 5 reported for fd 7, once and then
// 300 times in 15 µs, so that fd 7's lane is drawn dense.
func stuckTrace() (*synthTrace, map[string]int64) {
	st := newSynthTrace()
	tr := st.track("stuck-epoll", "full queue · epoll")
	seqs := map[string]int64{}
	tr.begin(0, "main", 10*us, 0, nil)
	tr.syscall(0, "socket", 20*us, 5*us, 7, 7)
	tr.add(synthEvent{Kind: trace.KindSyscall, Phase: trace.PhaseBegin, Loop: 0, Time: 40 * us, Fd: 5, Name: "epoll_wait"})
	tr.syscall(0, "epoll_wait", 40*us, 10*us, 5, 1)
	seqs["ready"] = tr.add(synthEvent{Kind: trace.KindReady, Loop: 0, Time: 50 * us, Fd: 7, Arg0: 0x1 | 0x4, Arg1: 5, Name: "epoll_wait"})
	seqs["write-begin"] = tr.add(synthEvent{Kind: trace.KindSyscall, Phase: trace.PhaseBegin, Loop: 0, Time: 60 * us, Fd: 7, Name: "write"})
	tr.syscall(0, "write", 60*us, 8*us, 7, 5)
	for i := range int64(300) { // more than the fd lane has pixels for: drawn dense
		tr.add(synthEvent{Kind: trace.KindReady, Loop: 0, Time: 70*us + i*50, Fd: 7, Arg0: 0x1, Arg1: 5, Name: "epoll_wait"})
	}
	seqs["connect"] = tr.add(synthEvent{Kind: trace.KindSyscall, Phase: trace.PhaseBegin, Loop: 0, Time: 100 * us, Fd: 7, Name: "connect"})
	tr.instant(1, trace.KindMark, trace.PhaseInstant, "harness: the handler held the loop", 1_500_100*us, nil, 0)
	return st, seqs
}

// TestTimelineUnfinishedSyscall checks that a syscall that began and never
// returned is drawn as a bar to the end of the trace, labelled "in
// connect(), 1.5 s", listed by unfinished(), and that its details say it
// never returned; live, the bar follows the latest event until the call's
// record closes it. A ready event is a tick on its fd's lane, its mask named.
func TestTimelineUnfinishedSyscall(t *testing.T) {
	st, seqs := stuckTrace()
	ctx := openTimeline(t, "stuck", st)

	type call struct {
		Track string  `json:"track"`
		Loop  int     `json:"loop"`
		Seq   int64   `json:"seq"`
		Name  string  `json:"name"`
		Fd    int     `json:"fd"`
		Time  float64 `json:"time"`
		Dur   float64 `json:"dur"`
		Label string  `json:"label"`
	}
	calls := evalJS[[]call](t, ctx, `tl.unfinished()`)
	want := call{Track: "stuck-epoll", Loop: 0, Seq: seqs["connect"], Name: "connect", Fd: 7, Time: 100 * us, Dur: 1.5e9, Label: "in connect(), 1.5 s"}
	if len(calls) != 1 || calls[0] != want {
		t.Fatalf("unfinished() = %+v, want only %+v (the write returned)", calls, want)
	}

	// Drawn: the label goes through fillText, and the bar reaches the end
	// of the trace in the loop's syscall row.
	drawn := evalJS[[]string](t, ctx, `(async () => {
		window.texts = [];
		const fillText = CanvasRenderingContext2D.prototype.fillText;
		CanvasRenderingContext2D.prototype.fillText = function (s, ...rest) {
			window.texts.push(String(s));
			return fillText.call(this, s, ...rest);
		};
		tl.fit();
		await frames(2);
		CanvasRenderingContext2D.prototype.fillText = fillText;
		return window.texts;
	})()`)
	if n := countOf(drawn, "in connect(), 1.5 s"); n != 2 {
		t.Errorf("the label %q is drawn %d times, want 2 (the loop's syscall row and fd 7's dense lane); texts drawn: %q", "in connect(), 1.5 s", n, drawn)
	}
	if n := countOf(drawn, "write"); n > 2 {
		t.Errorf("the write that returned is labelled %d times, want it drawn once per lane (its record), not for its begin too", n)
	}
	type px struct {
		Amber int `json:"amber"`
		Total int `json:"total"`
	}
	// Sample the syscall row (37px into the loop lane, 11px high) near the
	// end of the trace, away from the label.
	bar := evalJS[px](t, ctx, `(() => {
		const c = document.getElementById("tl");
		const k = c.width / c.getBoundingClientRect().width;
		const x0 = Math.round(tl.timeToX(1.40e9) * k), x1 = Math.round(tl.timeToX(1.49e9) * k);
		const y = Math.round((tl.laneTop("stuck-epoll", "loop", 0) + 37 + 5) * k);
		const d = c.getContext("2d").getImageData(x0, y, x1 - x0, 1).data;
		let amber = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i] - d[i + 1] > 50 && d[i + 2] < 90) amber++;
		return {amber, total: d.length / 4};
	})()`)
	if bar.Total == 0 || bar.Amber < bar.Total/3 {
		t.Errorf("the syscall row near the end of the trace has %d amber pixels of %d, want the open connect's bar there", bar.Amber, bar.Total)
	}

	// Selected, it says it never returned.
	if ok := evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("stuck-epoll", 0, %d)`, seqs["connect"])); !ok {
		t.Fatalf("jumpTo(the connect's begin) = false")
	}
	type selected struct {
		Kind       string `json:"kind"`
		Phase      string `json:"phase"`
		Name       string `json:"name"`
		Unfinished bool   `json:"unfinished"`
		Label      string `json:"label"`
		Events     string `json:"events"`
	}
	sel := evalJS[selected](t, ctx, `tl.view().selected`)
	if sel.Kind != "syscall" || sel.Phase != "begin" || sel.Name != "connect" || !sel.Unfinished || sel.Label != "in connect(), 1.5 s" {
		t.Errorf("selected = %+v, want the connect's begin, unfinished, labelled", sel)
	}
	details := evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	for _, w := range []string{"in connect(), 1.5 s: it never returned", "returned", "never: still in the call 1.5 s later"} {
		if !strings.Contains(details, w) {
			t.Errorf("details of the unfinished connect = %q, want %q", details, w)
		}
	}
	screenshot(t, ctx, "timeline-unfinished-syscall")

	// The begin of the write that returned points at its record.
	evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("stuck-epoll", 0, %d)`, seqs["write-begin"]))
	details = evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	if !strings.Contains(details, "after 8 µs") || strings.Contains(details, "never") {
		t.Errorf("details of the write's begin = %q, want when it returned (after 8 µs)", details)
	}

	// The ready event: a tick on fd 7's lane, its mask named.
	evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("stuck-epoll", 0, %d)`, seqs["ready"]))
	sel = evalJS[selected](t, ctx, `tl.view().selected`)
	details = evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	if sel.Kind != "ready" || sel.Events != "EPOLLIN|EPOLLOUT" || !strings.Contains(details, "EPOLLIN|EPOLLOUT") || !strings.Contains(details, "epoll fd5") {
		t.Errorf("ready selected = %+v, details %q; want its mask EPOLLIN|EPOLLOUT and epoll fd 5", sel, details)
	}
	if top := evalJS[float64](t, ctx, `tl.laneTop("stuck-epoll", "fd", 7)`); top < 0 {
		t.Errorf("no lane for fd 7")
	}

	// Live: the bar runs to the latest event, then the call's record ends it.
	names := st.Tracks[0].ids
	evalJS[any](t, ctx, fmt.Sprintf(`tl.setLive(true), tl.addEvents("stuck-epoll", 0, [], [[2, 3000100000, 0, %d, 0, 1, 0, -1, 0, 0, 0, %d]]), frames(1)`,
		trace.KindMark, names["harness: the handler held the loop"]))
	calls = evalJS[[]call](t, ctx, `tl.unfinished()`)
	if len(calls) != 1 || calls[0].Label != "in connect(), 3 s" {
		t.Errorf("live, after an event at 3.0001 s: unfinished() = %+v, want the connect, labelled in connect(), 3 s", calls)
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents("stuck-epoll", 0, [], [[%d, 100000, 3100000000, %d, 0, 0, 0, 7, -111, 0, 0, %d]]), frames(1)`,
		seqs["connect"]+1, trace.KindSyscall, names["connect"]))
	if calls := evalJS[[]call](t, ctx, `tl.unfinished()`); len(calls) != 0 {
		t.Errorf("after the connect's record: unfinished() = %+v, want none", calls)
	}
	evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("stuck-epoll", 0, %d)`, seqs["connect"]))
	details = evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	if !strings.Contains(details, "after 3.1 s") || !strings.Contains(details, "ECONNREFUSED") || strings.Contains(details, "never returned") {
		t.Errorf("details of the connect's begin after its record = %q, want it returned after 3.1 s with ECONNREFUSED", details)
	}
}

func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}
