package web

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
)

// termGrader grades every handler 1/1 with a small trace, until the
// exercise "changes" (changed set): from then on 1/2, a new check failing.
type termGrader struct{ changed *atomic.Bool }

func (g termGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	o := sub.Observer
	o.Phase(grading.Phase{Name: "running", At: time.Now()})
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "Connect (your handler)", "connect"}, Events: []trace.Event{
		{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1},
		{Seq: 2, Time: 2000, Dur: 500, Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: -115},
		{Seq: 3, Time: 4000, Dur: 3000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1},
	}}
	track := grading.Track("listener", engine.Epoll)
	o.TrackStart(track, "listener", engine.Epoll)
	o.TraceBatch(track, trace.Batch{Names: tr.Names[1:], FirstName: 1, Events: tr.Events, End: true})
	sum := grading.RunSummary{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events)}
	o.TrackEnd(track, &exercises.Run{}, sum)
	o.Phase(grading.Phase{Name: "done", At: time.Now()})
	res := &grading.Result{ID: sub.ID, Exercise: sub.Exercise.Slug, Verdict: grading.Passed, Message: "every check passed", Score: 1, Max: 1,
		Checks: []grading.CheckResult{{ID: "c", Title: "a check", Points: 1, Max: 1, Passed: true, Status: exercises.StatusPassed}},
		Runs:   []grading.RunSummary{sum}}
	if g.changed.Load() {
		res.Verdict, res.Message, res.Max = grading.Failed, "a check failed", 2
		res.Checks = append(res.Checks, grading.CheckResult{ID: "d", Title: "a new check", Max: 1, Status: exercises.StatusFailed})
	}
	return res, nil
}

func (g termGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

// csrfValue is a form's CSRF token, which differs between browsers.
var csrfValue = regexp.MustCompile(`(name="csrf" value=")[0-9a-f]{32}"`)

// A whole term in Chromium, as an instructor and two students live it:
// the instructor makes a course, imports a roster and makes an
// assignment; one student joins by an invite link, the other with the
// course's code; both submit, one late; an extension is granted; the
// gradebook applies the late policy and the CSV matches its golden file;
// the exercise changes and a regrade updates the gradebook; viewing as a
// student shows exactly the student's page; and "watch with me" puts the
// instructor's run on a student's screen.
func TestBrowserWholeTerm(t *testing.T) {
	ctx := context.Background()
	var changed atomic.Bool
	var offset atomic.Int64 // how far the term's clock is ahead of the wall clock
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ts, s, store := testLab(t, termGrader{&changed}, func(c *Config) { c.Now = clock })
	link, err := s.Setup(ctx, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	finished := func() {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if runs, err := store.Unfinished(ctx); err == nil && len(runs) == 0 {
				return
			}
		}
		t.Fatal("runs still unfinished after a minute")
	}

	ada, bob, carol := newBrowser(t), newBrowser(t), newBrowser(t)
	doAda, doBob, doCarol := steps(t, ada), steps(t, bob), steps(t, carol)
	doAda("Ada takes the first start's link and makes the course",
		chromedp.Navigate(link),
		chromedp.SendKeys(`[data-testid="name"]`, "Ada"),
		chromedp.SendKeys(`[data-testid="email"]`, "ada@example.edu"),
		chromedp.SendKeys(`[data-testid="password"]`, "correct horse"),
		chromedp.Click(`[data-testid="link-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
		chromedp.Click(`[data-testid="nav-courses"]`),
		chromedp.WaitVisible(`[data-testid="new-course"]`),
		chromedp.SendKeys(`[data-testid="new-course"] [data-testid="name"]`, "Operating Systems"),
		chromedp.SendKeys(`[data-testid="new-course"] [data-testid="term"]`, "Spring 2027"),
		chromedp.Click(`[data-testid="new-course"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="import-roster"]`),
	)
	course := evalJS[string](t, ada, `location.pathname`)
	doAda("Ada imports a roster of one",
		chromedp.SendKeys(`[data-testid="csv"]`, "name,email,section\nBob,bob@example.edu,A\n"),
		chromedp.Click(`[data-testid="import-roster"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="issued-links"]`),
	)
	bobLink := evalJS[string](t, ada, `document.querySelector('[data-testid="issued-bob@example.edu"] input').value`)
	code := strings.TrimSpace(evalJS[string](t, ada, `document.querySelector('[data-testid="join-code"]').textContent`))

	// Week 1: connect for 10 points, due in an hour, half credit for a day
	// after. The course's time zone is UTC.
	start := clock().UTC()
	field := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }
	doAda("Ada makes an assignment",
		chromedp.Navigate(ts.URL+course+"/assignments/new"),
		chromedp.WaitVisible(`[data-testid="new-assignment"]`),
		chromedp.SendKeys(`[data-testid="title"]`, "Week 1"),
		chromedp.Click(`[data-testid="pick-connect"]`),
		chromedp.SetValue(`[data-testid="points-connect"]`, "10"),
		chromedp.SetValue(`[data-testid="opens"]`, field(start.Add(-time.Hour))),
		chromedp.SetValue(`[data-testid="due"]`, field(start.Add(time.Hour))),
		chromedp.SendKeys(`[data-testid="late"]`, "24 50"),
		chromedp.Click(`[data-testid="new-assignment"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="gradebook"]`),
	)
	assignment := evalJS[string](t, ada, `location.pathname`)

	doBob("Bob joins by his invite link",
		chromedp.Navigate(bobLink),
		chromedp.SendKeys(`[data-testid="password"]`, "bob's password"),
		chromedp.Click(`[data-testid="link-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
	)
	doCarol("Carol joins with the course's code",
		chromedp.Navigate(ts.URL+"/join?code="+code),
		chromedp.WaitVisible(`[data-testid="join-course"]`),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="name"]`, "Carol"),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="email"]`, "carol@example.edu"),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="password"]`, "carol's password"),
		chromedp.Click(`[data-testid="join-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="course-role"]`),
	)
	submit := func(b context.Context, who string) {
		t.Helper()
		steps(t, b)(who+" submits connect for Week 1",
			chromedp.Navigate(ts.URL+assignment),
			chromedp.WaitVisible(`[data-testid="my-items"]`),
			chromedp.Click(`[data-testid="item-connect"] a`),
			chromedp.WaitVisible(`.cm-editor`),
			chromedp.Click(`[data-testid="submit"]`),
		)
		waitJS(t, b, `!!document.querySelector('[data-testid="verdict"]')`, who+"'s verdict")
	}
	submit(bob, "Bob")
	offset.Store(int64(2 * time.Hour)) // the due time passes
	submit(carol, "Carol")
	finished()

	totals := func() map[string]string {
		t.Helper()
		doAda("Ada opens the gradebook", chromedp.Navigate(ts.URL+assignment), chromedp.WaitVisible(`[data-testid="gradebook"]`))
		return evalJS[map[string]string](t, ada, `Object.fromEntries([...document.querySelectorAll('[data-testid^="grade-"]')].map(
			r => [r.dataset.testid.slice(6), r.querySelector('[data-testid="total"]').textContent.trim()]))`)
	}
	if got := totals(); got["bob@example.edu"] != "10.00" || got["carol@example.edu"] != "5.00" {
		t.Errorf("gradebook = %v, want Bob 10.00 and Carol 5.00 (late, 50%%)", got)
	}
	if late := evalJS[bool](t, ada, `document.querySelector('[data-testid="grade-carol@example.edu"]').textContent.includes("late")`); !late {
		t.Errorf("the gradebook does not mark Carol's submission late")
	}
	doAda("Ada grants Carol an extension past her submission",
		chromedp.SendKeys(`[data-testid="extension"] [data-testid="email"]`, "carol@example.edu"),
		chromedp.SetValue(`[data-testid="extension"] [data-testid="due"]`, field(start.Add(3*time.Hour))),
		chromedp.Click(`[data-testid="extension"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="audit"]`),
	)
	if got := totals(); got["bob@example.edu"] != "10.00" || got["carol@example.edu"] != "10.00" {
		t.Errorf("gradebook after the extension = %v, want 10.00 each", got)
	}
	screenshot(t, ada, "term-gradebook")
	doAda("Ada opens the assignment's edit form", chromedp.Navigate(ts.URL+assignment+"/edit"), chromedp.WaitVisible(`[data-testid="new-assignment"]`))
	screenshot(t, ada, "term-assignment-edit")
	csv := evalJS[string](t, ada, `fetch("`+course+`/grades.csv").then(r => r.text())`)
	golden := filepath.Join("testdata", "term-grades.csv")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, []byte(csv), 0o644)
	}
	if want, err := os.ReadFile(golden); err != nil || csv != string(want) {
		t.Errorf("grades.csv =\n%s\nwant (%s, %v)\n%s", csv, golden, err, want)
	}

	// The exercise changes: a new check, which both fail. A regrade of
	// every submission halves both totals.
	changed.Store(true)
	doAda("Ada regrades every submission",
		chromedp.Navigate(ts.URL+assignment),
		chromedp.Click(`[data-testid="regrade-all"]`),
		chromedp.WaitVisible(`[data-testid="regrade-items"]`),
	)
	regrade := evalJS[string](t, ada, `location.pathname`)
	finished()
	doAda("Ada looks at the regrade", chromedp.Navigate(ts.URL+regrade), chromedp.WaitVisible(`[data-testid="regrade-totals"]`))
	if progress, _ := chromedp.Run(ada, chromedp.Text(`[data-testid="regrade-progress"]`)); !strings.Contains(progress, "2 of 2 graded again") {
		t.Errorf("the regrade page says %q", progress)
	}
	screenshot(t, ada, "term-regrade")
	if got := totals(); got["bob@example.edu"] != "5.00" || got["carol@example.edu"] != "5.00" {
		t.Errorf("gradebook after the regrade = %v, want 5.00 each", got)
	}
	doAda("Ada opens the course's gradebook", chromedp.Navigate(ts.URL+course+"/grades"), chromedp.WaitVisible(`[data-testid="course-grades"]`))
	if got := evalJS[string](t, ada, `document.querySelector('[data-testid="grade-carol@example.edu"] [data-testid="total"]').textContent`); got != "5.00" {
		t.Errorf("the course's gradebook gives Carol %s after the regrade, want 5.00", got)
	}
	screenshot(t, ada, "term-course-gradebook")
	doAda("Ada goes back to Week 1", chromedp.Navigate(ts.URL+assignment), chromedp.WaitVisible(`[data-testid="gradebook"]`))
	doAda("Ada opens Bob's submissions", chromedp.Click(`[data-testid="grade-bob@example.edu"] [data-testid="student"]`), chromedp.WaitVisible(`[data-testid="submissions"]`))
	if n := evalJS[int](t, ada, `document.querySelectorAll('[data-testid="regraded"]').length`); n != 1 {
		t.Errorf("Bob's submissions page shows %d regrades, want 1", n)
	}
	screenshot(t, ada, "term-submissions")

	// View as Bob: the same page as Bob's own.
	mainHTML := func(b context.Context) string {
		return csrfValue.ReplaceAllString(evalJS[string](t, b, `document.querySelector("main").innerHTML`), `$1"`)
	}
	doBob("Bob opens Week 1", chromedp.Navigate(ts.URL+assignment), chromedp.WaitVisible(`[data-testid="my-items"]`))
	doAda("Ada views as Bob",
		chromedp.Navigate(ts.URL+assignment),
		chromedp.Click(`[data-testid="view-as-bob@example.edu"]`),
		chromedp.WaitVisible(`[data-testid="my-items"]`),
	)
	if his, seen := mainHTML(bob), mainHTML(ada); his != seen {
		t.Errorf("viewing as Bob differs from Bob's page:\nBob's:\n%s\nseen:\n%s", his, seen)
	}
	screenshot(t, ada, "term-view-as")
	doAda("Ada stops viewing as Bob", chromedp.Click(`[data-testid="stop-viewing-as"]`), chromedp.WaitNotPresent(`[data-testid="viewing-as"]`))

	// Watch with me: Ada runs connect and shows the run to the course.
	doAda("Ada runs connect",
		chromedp.Navigate(ts.URL+"/exercises/connect"),
		chromedp.WaitVisible(`.cm-editor`),
		chromedp.Click(`[data-testid="run"]`),
	)
	waitJS(t, ada, `!document.getElementById("run-link").hidden`, "Ada's run link")
	run := strings.TrimPrefix(evalJS[string](t, ada, `new URL(document.getElementById("run-link").href).pathname`), "/runs/")
	finished()
	doAda("Ada shows her run to the course",
		chromedp.Navigate(ts.URL+"/runs/"+run),
		chromedp.WaitVisible(`[data-testid="show-to"]`),
		chromedp.Click(`[data-testid="show"]`),
		chromedp.WaitVisible(`[data-testid="watch-presenter"]`),
	)
	doBob("Bob sees the banner and joins",
		chromedp.Navigate(ts.URL+course),
		chromedp.WaitVisible(`[data-testid="watch-banner"]`),
		chromedp.Click(`[data-testid="watch-join"]`),
		chromedp.WaitVisible(`[data-testid="watch-by"]`),
	)
	if got := evalJS[string](t, bob, `document.getElementById("lab").dataset.run`); got != run {
		t.Errorf("Bob's watch page shows run %q, want Ada's %s", got, run)
	}
	waitJS(t, bob, `document.getElementById("event-count").textContent === "3"`, "Ada's run on Bob's screen")
	doAda("Ada steps", chromedp.Click(`[data-testid="step-fwd"]`))
	waitJS(t, bob, `(() => { const s = labTimeline.view().selected; return !!s && s.seq === 1; })()`, "Bob to follow Ada's step")
	screenshot(t, bob, "term-watch")
}
