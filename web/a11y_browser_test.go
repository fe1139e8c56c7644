package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
)

// The accessibility audit runs axe-core in the real headless Chromium on
// every kind of page of the lab, as the person who sees it: anonymous, an
// instructor and a student. A page fails on any violation of impact
// "serious" or "critical"; moderate and minor ones are logged. The whole
// axe report of each page is saved as a11y/<page>.json in the artifacts
// directory.
//
// axe-core is vendored from npm (axe-core 4.14.1) as testdata/axe/axe.min.js,
// under the Mozilla Public License 2.0 (testdata/axe/LICENSE). To update it:
// `npm pack axe-core@4`, and copy package/axe.min.js and package/LICENSE*.

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

// axeSource returns the text of axe.min.js.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
		axeSrc, axeErr = string(b), err
	})
	if axeErr != nil {
		t.Fatalf("axe-core: %v", axeErr)
	}
	return axeSrc
}

// axeReport is the part of axe.run's results the test reads.
type axeReport struct {
	URL        string    `json:"url"`
	Violations []axeRule `json:"violations"`
}

type axeRule struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeNode struct {
	// Target is the element's CSS selector; an element in a frame or a
	// shadow root has an array of selectors instead of a string.
	Target         []json.RawMessage `json:"target"`
	HTML           string            `json:"html"`
	FailureSummary string            `json:"failureSummary"`
}

func (n axeNode) target() string {
	var parts []string
	for _, raw := range n.Target {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
		} else {
			parts = append(parts, string(raw))
		}
	}
	return strings.Join(parts, " ")
}

// axeAudit runs axe-core on the page the tab shows, saves its report as
// a11y/<name>.json in the artifacts directory, fails the test on every
// serious or critical violation and logs the others.
func axeAudit(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !evalJS[bool](t, ctx, `typeof window.axe === "object"`) {
		if !evalJS[bool](t, ctx, axeSource(t)+"\n;typeof window.axe === \"object\"") {
			t.Fatalf("axe-core did not load in the page")
		}
	}
	raw := evalJS[string](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(r))`)
	dir := filepath.Join(artifactsDir(), "a11y")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(raw), "", "  "); err != nil {
		t.Fatalf("axe's report: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".json")
	if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var rep axeReport
	if err := json.Unmarshal([]byte(raw), &rep); err != nil {
		t.Fatalf("axe's report: %v", err)
	}
	var bad []string
	for _, v := range rep.Violations {
		var targets []string
		for i, n := range v.Nodes {
			if i == 5 {
				targets = append(targets, fmt.Sprintf("… %d more", len(v.Nodes)-i))
				break
			}
			targets = append(targets, n.target())
		}
		line := fmt.Sprintf("%s (%s, %d element(s)): %s\n\t\t%s\n\t\t%s", v.ID, v.Impact, len(v.Nodes), v.Help,
			strings.Join(targets, "\n\t\t"), v.HelpURL)
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			t.Logf("%s: %s", name, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s (%s): %d serious or critical accessibility violation(s), axe's report in %s:\n\t%s",
			name, rep.URL, len(bad), file, strings.Join(bad, "\n\t"))
	}
}

// a11yPage is one page of the audit: whom it is shown to, where it is,
// and what shows that it is ready.
type a11yPage struct {
	name  string
	as    string        // "" (anonymous), "ada" (instructor) or "bob" (student)
	url   func() string // the path
	ready string        // a JavaScript expression, true once the page is ready
	// then, if set, does what a person does on the page before the audit.
	then func(t *testing.T, ctx context.Context)
}

func present(sel string) string {
	return fmt.Sprintf(`!!document.querySelector(%q)`, sel)
}

func fixedURL(p string) func() string { return func() string { return p } }

// Every page of the lab, in Chromium, passes axe-core's audit with no
// serious or critical violation.
func TestAccessibility(t *testing.T) {
	ctx := context.Background()
	done := make(chan struct{})
	close(done)
	ts, s, store := testLab(t, turnGrader{turns: done}, nil)
	setup, err := s.Setup(ctx, ts.URL) // before anyone has an account
	if err != nil || setup == "" {
		t.Fatalf("Setup = %q, %v", setup, err)
	}
	w := seedA11y(t, store)

	bctx := newBrowser(t)
	// axe-core is evaluated in the page; the lab's policy allows its own
	// scripts only, and parts of axe compile functions.
	if _, err := chromedp.Call(bctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	allowErrors(bctx, "HTTP 404") // the not-found page

	events := func(n int) string {
		return fmt.Sprintf(`document.getElementById("event-count").textContent === "%d"`, n)
	}
	stepOnce := func(t *testing.T, ctx context.Context) {
		steps(t, ctx)("select the first event", chromedp.Click(`[data-testid="step-fwd"]`))
		waitJS(t, ctx, `!!labTimeline.view().selected`, "an event to be selected")
	}
	pages := []a11yPage{
		{name: "catalogue-anonymous", url: fixedURL("/"), ready: present(`[data-testid="catalogue"]`)},
		{name: "sign-in", url: fixedURL("/signin"), ready: present(`[data-testid="sign-in-form"]`)},
		{name: "setup-link", url: func() string { return strings.TrimPrefix(setup, ts.URL) }, ready: present(`[data-testid="link-form"]`)},
		{name: "password-link", url: fixedURL("/link/" + w.link), ready: present(`[data-testid="link-form"]`)},
		{name: "join-anonymous", url: fixedURL("/join?code=OS"), ready: present(`[data-testid="join-form"]`)},
		{name: "not-found", url: fixedURL("/no-such-page"), ready: present(`[data-testid="error"]`)},

		{name: "catalogue-instructor", as: "ada", url: fixedURL("/"), ready: present(`[data-testid="catalogue"]`)},
		{name: "people", as: "ada", url: fixedURL("/people"), ready: present(`[data-testid="add-person"]`),
			then: func(t *testing.T, ctx context.Context) {
				steps(t, ctx)("add a person",
					chromedp.SendKeys(`[data-testid="add-person"] [data-testid="name"]`, "Dan"),
					chromedp.SendKeys(`[data-testid="add-person"] [data-testid="email"]`, "dan@example.edu"),
					chromedp.Click(`[data-testid="add-person"] [data-testid="submit"]`),
					chromedp.WaitVisible(`[data-testid="issued-url"]`),
				)
			}},
		{name: "settings", as: "ada", url: fixedURL("/settings"), ready: present(`[data-testid="settings-form"]`)},
		{name: "courses", as: "ada", url: fixedURL("/courses"), ready: present(`[data-testid="new-course"]`)},
		{name: "course-staff", as: "ada", url: fixedURL("/courses/c-os"), ready: present(`[data-testid="roster"]`),
			then: func(t *testing.T, ctx context.Context) {
				steps(t, ctx)("import a roster",
					chromedp.SendKeys(`[data-testid="csv"]`, "name,email,section\nErin,erin@example.edu,A\n"),
					chromedp.Click(`[data-testid="import-roster"] [data-testid="submit"]`),
					chromedp.WaitVisible(`[data-testid="issued-links"]`),
				)
			}},
		{name: "course-gradebook", as: "ada", url: fixedURL("/courses/c-os/grades"), ready: present(`[data-testid="course-grades"]`)},
		{name: "assignment-new", as: "ada", url: fixedURL("/courses/c-os/assignments/new"), ready: present(`[data-testid="new-assignment"]`)},
		{name: "assignment-staff", as: "ada", url: fixedURL("/assignments/a-1"), ready: present(`[data-testid="gradebook"]`)},
		{name: "assignment-edit", as: "ada", url: fixedURL("/assignments/a-1/edit"), ready: present(`[data-testid="new-assignment"]`)},
		{name: "dashboard", as: "ada", url: fixedURL("/assignments/a-1/dashboard"), ready: present(`[data-testid="dash-connect"]`)},
		{name: "submissions", as: "ada", url: fixedURL("/assignments/a-1/students/u-bob"),
			ready: present(`[data-testid="submissions"]`) + ` && document.querySelector('[data-testid="submissions"] [data-testid="prediction"]').textContent.includes("the run: EINPROGRESS")`},
		{name: "regrade", as: "ada", url: fixedURL("/regrades/rg-1"), ready: present(`[data-testid="regrade-items"]`)},
		{name: "replay", as: "ada", url: fixedURL("/runs/" + w.adaRun), ready: events(5) + ` && ` + present(`[data-testid="verdict"]`) + ` && ` + present(`[data-testid="prediction-actual"]`), then: stepOnce},
		{name: "compare", as: "ada", url: fixedURL("/compare?a=" + w.adaRun + "&b=" + w.adaRun2), ready: events(10), then: stepOnce},
		{name: "watch-none", as: "ada", url: fixedURL("/courses/c-os/watch"), ready: present(`[data-testid="watch-none"]`)},
		{name: "watch-presenter", as: "ada", url: fixedURL("/runs/" + w.adaRun), ready: present(`[data-testid="show-to"]`),
			then: func(t *testing.T, ctx context.Context) {
				steps(t, ctx)("show the run to the course",
					chromedp.Click(`[data-testid="show"]`),
					chromedp.WaitVisible(`[data-testid="watch-presenter"]`),
				)
				waitJS(t, ctx, events(5), "the presenter's timeline to load")
				stepOnce(t, ctx)
			}},

		{name: "catalogue-student", as: "bob", url: fixedURL("/"), ready: present(`[data-testid="open-assignments"]`) + ` && ` + present(`[data-testid="watch-banner"]`)},
		{name: "course-student", as: "bob", url: fixedURL("/courses/c-os"), ready: present(`[data-testid="course-role"]`)},
		{name: "assignment-student", as: "bob", url: fixedURL("/assignments/a-1"), ready: present(`[data-testid="my-items"]`)},
		{name: "exercise-for-assignment", as: "bob", url: fixedURL("/exercises/connect?assignment=a-1"), ready: present(`.cm-editor`) + ` && ` + present(`[data-testid="for-assignment"]`)},
		{name: "replay-submission", as: "bob", url: fixedURL("/runs/" + w.bobSub), ready: events(5) + ` && ` + present(`[data-testid="checks"]`), then: stepOnce},
		{name: "watch-student", as: "bob", url: fixedURL("/courses/c-os/watch"), ready: present(`[data-testid="watch-by"]`) + ` && ` + events(5)},
		{name: "join-signed-in", as: "bob", url: fixedURL("/join?code=OS"), ready: present(`[data-testid="join-form"]`)},
	}

	// Every exercise's page: each has its own instructions.
	var exercisePages []a11yPage
	for _, ex := range catalog.All() {
		exercisePages = append(exercisePages, a11yPage{name: "exercise-" + ex.Slug, url: fixedURL("/exercises/" + ex.Slug), ready: present(`.cm-editor`)})
	}
	pages = append(pages[:1], append(exercisePages, pages[1:]...)...)

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
			if p.then != nil {
				p.then(t, bctx)
			}
			axeAudit(t, bctx, p.name)
		})
	}
}

// a11yWorld is what seedA11y made.
type a11yWorld struct {
	link                    string // Carol's one-time link's token
	adaRun, adaRun2, bobSub string
}

// seedA11y fills the store for the audit: Ada, an instructor; Bob, a
// student of her course Operating Systems with an open assignment he has
// submitted for, and a regrade of it; Carol with a sign-in link not yet
// used; two runs of Ada's.
func seedA11y(t *testing.T, store labs.Store) a11yWorld {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, u := range []struct {
		id, name string
		role     labs.Role
		password bool
	}{{"u-ada", "Ada", labs.RoleInstructor, true}, {"u-bob", "Bob", labs.RoleStudent, true}, {"u-carol", "Carol", labs.RoleStudent, false}} {
		hash := ""
		if u.password {
			var err error
			hash, err = hashPassword(ctx, strings.ToLower(u.name)+"'s password")
			must(err)
		}
		must(store.CreateUser(ctx, &labs.User{ID: u.id, Email: strings.ToLower(u.name) + "@example.edu", Name: u.name, Role: u.role, Password: hash, Created: now}))
	}
	var w a11yWorld
	token, hash := newToken()
	w.link = token
	must(store.CreateLink(ctx, &labs.Link{ID: hash, Purpose: labs.LinkPassword, User: "u-carol", Created: now, Expires: now.Add(time.Hour)}))

	must(store.CreateCourse(ctx, &labs.Course{ID: "c-os", Name: "Operating Systems", Term: "Spring", TimeZone: "UTC", JoinCode: "OS", Created: now}, "u-ada"))
	must(store.SetMember(ctx, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Section: "A", Joined: now}))
	must(store.SetMember(ctx, labs.Member{Course: "c-os", User: "u-carol", Role: labs.CourseStudent, Section: "B", Joined: now}))
	must(store.CreateAssignment(ctx, &labs.Assignment{ID: "a-1", Course: "c-os", Title: "Week 1",
		Items: []labs.AssignmentItem{{Exercise: "connect", Points: 10}}, Opens: now.Add(-time.Hour), Due: now.Add(time.Hour),
		Late:    []labs.LateWindow{{Within: 24 * time.Hour, Credit: 80}},
		Scoring: labs.ScoreBest, MaxSubmissions: 3, Feedback: labs.FeedbackAll, Created: now}))

	tr, buf := threeSyscalls(t)
	track := grading.Track("listener", engine.Epoll)
	code := string(exercise(t, "connect").Starter)

	run := func(client string, mode labs.RunMode, assignment, regrades string, at time.Time, res *grading.Result) string {
		t.Helper()
		id := labs.NewRunID(at)
		res.ID, res.Exercise = id, "connect"
		res.Runs = []grading.RunSummary{{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events), Answer: "connected"}}
		// Every run carries a prediction and the real answer next to it.
		p := exercise(t, "connect").Predict
		predicted, actual := exercises.Answer{Choice: p.Choices[0]}, exercises.Answer{Choice: p.Choices[1], Note: "connect(2) returned EINPROGRESS"}
		res.Prediction = &grading.Prediction{Question: p.Question, Form: p.Form, Choices: p.Choices, Predicted: &predicted,
			PredictedText: p.Format(predicted), Actual: &actual, ActualText: p.Format(actual), Note: actual.Note}
		b, err := json.Marshal(res)
		must(err)
		pb, err := json.Marshal(predicted)
		must(err)
		ab, err := json.Marshal(actual)
		must(err)
		must(store.CreateRun(ctx, &labs.Run{ID: id, Exercise: "connect", Mode: mode, Client: client, Assignment: assignment, Regrades: regrades,
			Code: code, Backends: []string{"epoll"}, Prediction: string(pb), Created: at}))
		must(store.StartRun(ctx, id, at))
		must(store.FinishRun(ctx, id, labs.Outcome{Verdict: string(res.Verdict), Score: res.Score, Max: res.Max, Result: b, Actual: string(ab), Finished: at},
			[]labs.Trace{{Track: track, Data: buf.Bytes()}}))
		return id
	}
	w.adaRun = run("u-ada", labs.ModeRun, "", "", now.Add(-3*time.Minute), &grading.Result{Verdict: grading.Ran, Message: "ran"})
	w.adaRun2 = run("u-ada", labs.ModeRun, "", "", now.Add(-2*time.Minute), &grading.Result{Verdict: grading.Ran, Message: "ran"})
	connects := grading.CheckResult{ID: "connects", Title: "Connects to the listener", Points: 5, Max: 5, Passed: true, Status: exercises.StatusPassed}
	w.bobSub = run("u-bob", labs.ModeSubmit, "a-1", "", now.Add(-time.Minute), &grading.Result{Verdict: grading.Failed, Message: "1 of 2 checks failed",
		Score: 5, Max: 10, Checks: []grading.CheckResult{connects,
			{ID: "no-busy-wait", Title: "Waits for the socket to be writable", Points: 0, Max: 5, Status: exercises.StatusFailed,
				Message: "getsockopt ran before the socket was writable", Hint: "Wait for EPOLLOUT before reading SO_ERROR.",
				Ref: &exercises.Ref{Scenario: "listener", Backend: engine.Epoll, Time: 4000, Seq: 4}}}})
	regrade := run("u-bob", labs.ModeSubmit, "a-1", w.bobSub, now.Add(-30*time.Second), &grading.Result{Verdict: grading.Passed, Message: "every check passed",
		Score: 10, Max: 10, Checks: []grading.CheckResult{connects,
			{ID: "no-busy-wait", Title: "Waits for the socket to be writable", Points: 5, Max: 5, Passed: true, Status: exercises.StatusPassed}}})
	must(store.CreateRegrade(ctx, &labs.Regrade{ID: "rg-1", Assignment: "a-1", Scope: "every submission", By: "u-ada", At: now,
		Items:  []labs.RegradeItem{{Submission: w.bobSub, Run: regrade, User: "u-bob", Exercise: "connect", BeforeScore: 5, BeforeMax: 10}},
		Before: map[string]float64{"u-bob": 5}}, "regraded every submission"))
	return w
}
