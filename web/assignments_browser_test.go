package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/labs"
)

// In Chromium: a student opens an assignment, goes to its exercise, and
// the page's Submit counts for the assignment.
func TestBrowserSubmitForAssignment(t *testing.T) {
	ctx := context.Background()
	done := make(chan struct{})
	close(done) // every run finishes at once
	g := turnGrader{turns: done}
	ts, _, store := testLab(t, g, nil)

	now := time.Now()
	hash, err := hashPassword(ctx, "bob's password")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*labs.User{
		{ID: "u-ada", Email: "ada@example.edu", Name: "Ada", Role: labs.RoleInstructor, Created: now},
		{ID: "u-bob", Email: "bob@example.edu", Name: "Bob", Role: labs.RoleStudent, Password: hash, Created: now},
	} {
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.CreateCourse(ctx, &labs.Course{ID: "c-os", Name: "Operating Systems", Term: "Spring", TimeZone: "UTC", JoinCode: "OS", Created: now}, "u-ada"))
	must(store.SetMember(ctx, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Joined: now}))
	must(store.CreateAssignment(ctx, &labs.Assignment{ID: "a-1", Course: "c-os", Title: "Week 1",
		Items: []labs.AssignmentItem{{Exercise: "connect", Points: 10}}, Opens: now.Add(-time.Hour), Due: now.Add(time.Hour),
		Scoring: labs.ScoreBest, MaxSubmissions: 3, Feedback: labs.FeedbackAll, Created: now}))

	bctx := newBrowser(t)
	do := steps(t, bctx)
	do("Bob signs in, opens the assignment and its exercise",
		chromedp.Navigate(ts.URL+"/assignments/a-1"),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
		chromedp.SendKeys(`[data-testid="email"]`, "bob@example.edu"),
		chromedp.SendKeys(`[data-testid="password"]`, "bob's password"),
		chromedp.Click(`[data-testid="sign-in-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="my-items"]`),
		chromedp.Click(`[data-testid="item-connect"] a`),
		chromedp.WaitVisible(`.cm-editor`),
	)
	banner, err := chromedp.Run(bctx, chromedp.Text(`[data-testid="for-assignment"]`))
	if err != nil || !strings.Contains(banner, "Week 1") || !strings.Contains(banner, "3 of 3 submissions left") {
		t.Errorf("the exercise page's banner says %q (%v), want Week 1 with 3 of 3 left", banner, err)
	}
	screenshot(t, bctx, "assignment-exercise")
	do("submit", chromedp.Click(`[data-testid="submit"]`))
	waitJS(t, bctx, `!!document.querySelector('[data-testid="verdict"]')`, "the submission's result")
	subs, err := store.Submissions(ctx, "a-1", "u-bob")
	if err != nil || len(subs) != 1 || subs[0].Exercise != "connect" {
		t.Fatalf("Submissions(a-1, bob) = %v, %v, want the one just made", subs, err)
	}
	do("back to the assignment", chromedp.Navigate(ts.URL+"/assignments/a-1"), chromedp.WaitVisible(`[data-testid="my-items"]`))
	row, _ := chromedp.Run(bctx, chromedp.Text(`[data-testid="item-connect"]`))
	if !strings.Contains(row, "1 (2 left)") {
		t.Errorf("the assignment's row says %q, want one submission, 2 left", row)
	}
	screenshot(t, bctx, "assignment-student")
}
