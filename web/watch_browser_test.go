package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
)

// In two Chromiums: Ada shows one of her runs to her course; Bob, on
// another page, is told, opens it, and his timeline follows each of Ada's
// steps until she ends the session.
func TestBrowserWatchWithMe(t *testing.T) {
	ctx := context.Background()
	done := make(chan struct{})
	close(done)
	ts, _, store := testLab(t, turnGrader{turns: done}, nil)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, u := range []struct{ id, name string }{{"u-ada", "Ada"}, {"u-bob", "Bob"}} {
		hash, err := hashPassword(ctx, u.name+"'s password")
		must(err)
		role := labs.RoleStudent
		if u.name == "Ada" {
			role = labs.RoleInstructor
		}
		must(store.CreateUser(ctx, &labs.User{ID: u.id, Email: strings.ToLower(u.name) + "@example.edu", Name: u.name, Role: role, Password: hash, Created: now}))
	}
	must(store.CreateCourse(ctx, &labs.Course{ID: "c-os", Name: "Operating Systems", Term: "Spring", TimeZone: "UTC", JoinCode: "OS", Created: now}, "u-ada"))
	must(store.SetMember(ctx, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Joined: now}))

	// Ada's run.
	tr, buf := threeSyscalls(t)
	track := grading.Track("listener", engine.Epoll)
	res, _ := json.Marshal(grading.Result{ID: "r", Exercise: "connect", Verdict: grading.Ran, Message: "ran",
		Runs: []grading.RunSummary{{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events)}}})
	run := labs.NewRunID(now)
	must(store.CreateRun(ctx, &labs.Run{ID: run, Exercise: "connect", Mode: labs.ModeRun, Client: "u-ada", Code: "package handler // Ada's", Created: now}))
	must(store.StartRun(ctx, run, now))
	must(store.FinishRun(ctx, run, labs.Outcome{Verdict: string(grading.Ran), Result: res, Finished: now}, []labs.Trace{{Track: track, Data: buf.Bytes()}}))

	signIn := func(bctx context.Context, who string) {
		t.Helper()
		steps(t, bctx)(who+" signs in",
			chromedp.Navigate(ts.URL+"/courses/c-os"),
			chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
			chromedp.SendKeys(`[data-testid="email"]`, strings.ToLower(who)+"@example.edu"),
			chromedp.SendKeys(`[data-testid="password"]`, who+"'s password"),
			chromedp.Click(`[data-testid="sign-in-form"] [data-testid="submit"]`),
			chromedp.WaitVisible(`[data-testid="signed-in-as"]`),
		)
	}
	ada, bob := newBrowser(t), newBrowser(t)
	signIn(ada, "Ada")
	signIn(bob, "Bob")
	doAda, doBob := steps(t, ada), steps(t, bob)

	doAda("Ada shows her run to Operating Systems",
		chromedp.Navigate(ts.URL+"/runs/"+run),
		chromedp.WaitVisible(`[data-testid="show-to"]`),
		chromedp.Click(`[data-testid="show"]`),
		chromedp.WaitVisible(`[data-testid="watch-presenter"]`),
	)
	loaded := `document.getElementById("event-count").textContent === "5"`
	waitJS(t, ada, loaded, "Ada's timeline to load the run")

	// Bob is on his course's page: the banner tells him, within its poll.
	waitJS(t, bob, `!!document.querySelector('[data-testid="watch-banner"]')`, "the banner on Bob's page")
	banner, _ := chromedp.Run(bob, chromedp.Text(`[data-testid="watch-banner"]`))
	if !strings.Contains(banner, "Ada is showing a run to Operating Systems") {
		t.Errorf("Bob's banner says %q", banner)
	}
	screenshot(t, bob, "watch-banner")
	doBob("Bob joins", chromedp.Click(`[data-testid="watch-join"]`), chromedp.WaitVisible(`[data-testid="watch-by"]`))
	waitJS(t, bob, loaded, "Bob's timeline to load Ada's run")

	// Step by step, Bob's selection and cursor are Ada's.
	for i := 1; i <= 3; i++ {
		doAda(fmt.Sprintf("Ada steps forward (%d)", i), chromedp.Click(`[data-testid="step-fwd"]`))
		seq := evalJS[int](t, ada, `labTimeline.view().selected.seq`)
		waitJS(t, bob, fmt.Sprintf(`(() => { const s = labTimeline.view().selected; return !!s && s.seq === %d && labTimeline.view().cursor === %s; })()`,
			seq, evalJS[string](t, ada, `String(labTimeline.view().cursor)`)), fmt.Sprintf("Bob's timeline to follow Ada to event %d", seq))
	}
	screenshot(t, ada, "watch-presenter")
	screenshot(t, bob, "watch-student")
	// Bob may stop following and look around on his own.
	doBob("Bob stops following", chromedp.Click(`[data-testid="watch-follow"]`))
	before := evalJS[int](t, bob, `labTimeline.view().selected.seq`)
	doAda("Ada steps back", chromedp.Click(`[data-testid="step-back"]`))
	waitJS(t, bob, `Number(document.getElementById("lab").dataset.moves) >= 4`, "Ada's fourth step to reach Bob")
	if after := evalJS[int](t, bob, `labTimeline.view().selected.seq`); after != before {
		t.Errorf("Bob, not following, was moved from event %d to %d", before, after)
	}

	doAda("Ada ends the session", chromedp.Click(`[data-testid="watch-end"]`), chromedp.WaitNotPresent(`[data-testid="watch-presenter"]`))
	waitJS(t, bob, `document.getElementById("lab").dataset.ended === "true"`, "Bob's page to hear the session ended")
	status, _ := chromedp.Run(bob, chromedp.Text(`[data-testid="watch-status"]`))
	if !strings.Contains(status, "The session has ended") {
		t.Errorf("Bob's page says %q after the end", status)
	}
}

// threeSyscalls is a stored run's trace: one callback that makes three
// syscalls, and its encoding.
func threeSyscalls(t *testing.T) (*trace.Trace, *bytes.Buffer) {
	t.Helper()
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "Connect (your handler)", "socket", "connect", "getsockopt"}}
	tr.Events = append(tr.Events, trace.Event{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1})
	for i := range 3 {
		tr.Events = append(tr.Events, trace.Event{Seq: uint64(2 + i), Time: int64(2000 + 1000*i), Dur: 400, Kind: trace.KindSyscall, Name: trace.NameID(2 + i), Fd: 5})
	}
	tr.Events = append(tr.Events, trace.Event{Seq: 5, Time: 6000, Dur: 5000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1})
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		t.Fatal(err)
	}
	return tr, &buf
}
