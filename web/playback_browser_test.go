package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// In Chromium: a replay plays the whole run in 10 s by default, speeds
// can be relative to real time, and playback jumps over a long stretch
// where nothing happens.
func TestBrowserPlaybackSpeeds(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Exercises: catalog.All(), Store: store})
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })

	// A callback at the start, then 20 s of nothing, then another.
	const gap = int64(20 * time.Second)
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "first", "second"}, Events: []trace.Event{
		{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1},
		{Seq: 2, Time: 3000, Dur: 2000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1},
		{Seq: 3, Time: gap, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 2, Fd: -1},
		{Seq: 4, Time: gap + 2000, Dur: 2000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 2, Fd: -1},
	}}
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		t.Fatal(err)
	}
	track := grading.Track("listener", engine.Epoll)
	res, _ := json.Marshal(grading.Result{ID: "r", Exercise: "connect", Verdict: grading.Ran, Message: "ran",
		Runs: []grading.RunSummary{{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events)}}})
	run := labs.NewRunID(time.Now())
	now := time.Now()
	for _, err := range []error{
		store.CreateRun(ctx, &labs.Run{ID: run, Exercise: "connect", Mode: labs.ModeRun, Client: "reference", Code: "x", Created: now}),
		store.StartRun(ctx, run, now),
		store.FinishRun(ctx, run, labs.Outcome{Verdict: string(grading.Ran), Result: res, Finished: now}, []labs.Trace{{Track: track, Data: buf.Bytes()}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	bctx := newBrowser(t)
	steps(t, bctx)("open the replay", chromedp.Navigate(ts.URL+"/runs/"+run), chromedp.WaitVisible(`[data-testid="timeline"]`))
	waitJS(t, bctx, `document.getElementById("event-count").textContent === "4"`, "the run to load")
	end := evalJS[float64](t, bctx, `labTimeline.view().traceEnd`)
	if speed := evalJS[float64](t, bctx, `labTimeline.view().speed`); speed != end/10 {
		t.Errorf("the default speed is %v ns/s, want the whole run (%v ns) in 10 s", speed, end)
	}
	setSpeed := func(v string) {
		t.Helper()
		evalJS[bool](t, bctx, fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid="speed"]'); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, v))
	}
	setSpeed("x:0.1")
	if speed := evalJS[float64](t, bctx, `labTimeline.view().speed`); speed != 1e8 {
		t.Errorf("at 0.1× the speed is %v ns/s, want 1e8", speed)
	}
	// At 0.1× the gap would take 200 s to play; skipping idle, the cursor
	// reaches the second callback at once.
	evalJS[bool](t, bctx, `labTimeline.seek(4000), labTimeline.play(), true`)
	waitJS(t, bctx, fmt.Sprintf(`labTimeline.view().cursor >= %d`, gap-int64(time.Second)), "playback to skip the idle 20 s")
	screenshot(t, bctx, "playback-speeds")
}
