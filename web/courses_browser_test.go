package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// In Chromium: an instructor makes a course and imports a roster; a
// student without an account joins with the course's code.
func TestBrowserCourse(t *testing.T) {
	ts, _, link := classroomLab(t)
	ctx := newBrowser(t)
	do := steps(t, ctx)
	do("create the first instructor",
		chromedp.Navigate(link),
		chromedp.SendKeys(`[data-testid="name"]`, "Ada"),
		chromedp.SendKeys(`[data-testid="email"]`, "ada@example.edu"),
		chromedp.SendKeys(`[data-testid="password"]`, "correct horse"),
		chromedp.Click(`[data-testid="link-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
	)
	do("create a course",
		chromedp.Click(`[data-testid="nav-courses"]`),
		chromedp.WaitVisible(`[data-testid="new-course"]`),
		chromedp.SendKeys(`[data-testid="new-course"] [data-testid="name"]`, "Operating Systems"),
		chromedp.SendKeys(`[data-testid="new-course"] [data-testid="term"]`, "Spring 2027"),
		chromedp.Click(`[data-testid="new-course"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="import-roster"]`),
	)
	do("import a roster",
		chromedp.SendKeys(`[data-testid="csv"]`, "name,email,section\nBob,bob@example.edu,A\nCarol,carol@example.edu,B\n"),
		chromedp.Click(`[data-testid="import-roster"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="issued-links"]`),
	)
	rows := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="issued-links"] tbody tr').length`)
	members := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="roster"] tbody tr').length`)
	if rows != 2 || members != 3 {
		t.Errorf("after the import: %d links and %d members, want 2 and 3 (Ada, Bob, Carol)", rows, members)
	}
	screenshot(t, ctx, "course-roster")
	code, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="join-code"]`))
	if err != nil {
		t.Fatal(err)
	}
	course := strings.TrimSuffix(evalJS[string](t, ctx, `location.pathname`), "/roster") // the import answers on its own URL

	do("sign out; Dan joins with the code",
		chromedp.Click(`[data-testid="sign-out"]`),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
		chromedp.Navigate(ts.URL+"/join?code="+code),
		chromedp.WaitVisible(`[data-testid="join-course"]`),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="name"]`, "Dan"),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="email"]`, "dan@example.edu"),
		chromedp.SendKeys(`[data-testid="join-form"] [data-testid="password"]`, "dan's password"),
		chromedp.Click(`[data-testid="join-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="course-role"]`),
	)
	if got := evalJS[string](t, ctx, `location.pathname`); got != course {
		t.Errorf("after joining Dan is on %s, want %s", got, course)
	}
	if role, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid="course-role"]`)); strings.TrimSpace(role) != "student" {
		t.Errorf("Dan's course page says he is %q", role)
	}
	screenshot(t, ctx, "course-student")
}
