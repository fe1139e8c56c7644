package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// In Chromium: the first instructor's account from the setup link, a
// student added with a one-time link, the lab closed, and both signing in
// and out, with no console error (the Content-Security-Policy included).
func TestBrowserAccounts(t *testing.T) {
	ts, store, link := classroomLab(t)
	ctx := newBrowser(t)
	do := steps(t, ctx)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	do("create the first instructor",
		chromedp.Navigate(link),
		chromedp.WaitVisible(`[data-testid="link-form"]`),
		chromedp.SendKeys(`[data-testid="name"]`, "Ada Lovelace"),
		chromedp.SendKeys(`[data-testid="email"]`, "ada@example.edu"),
		chromedp.SendKeys(`[data-testid="password"]`, "correct horse"),
		chromedp.Click(`[data-testid="link-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
	)
	if got := text(`[data-testid="signed-in-as"]`); got != "Ada Lovelace" {
		t.Errorf("after setup the header says %q, want Ada Lovelace", got)
	}
	screenshot(t, ctx, "accounts-signed-in")

	do("add a student",
		chromedp.Click(`[data-testid="nav-people"]`),
		chromedp.WaitVisible(`[data-testid="add-person"]`),
		chromedp.SendKeys(`[data-testid="add-person"] [data-testid="name"]`, "Bob"),
		chromedp.SendKeys(`[data-testid="add-person"] [data-testid="email"]`, "bob@example.edu"),
		chromedp.Click(`[data-testid="add-person"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="issued-url"]`),
	)
	bobLink, err := chromedp.Run(ctx, chromedp.Value(`[data-testid="issued-url"]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bobLink, ts.URL+"/link/") {
		t.Fatalf("the people page shows %q, want a link", bobLink)
	}
	if got := text(`[data-testid="person-bob@example.edu"] td:nth-child(5)`); got != "not yet" {
		t.Errorf("Bob's password column says %q, want \"not yet\"", got)
	}
	screenshot(t, ctx, "accounts-people")

	do("close the lab",
		chromedp.Click(`[data-testid="nav-settings"]`),
		chromedp.WaitVisible(`[data-testid="settings-form"]`),
		chromedp.Click(`[data-testid="open"]`),
		chromedp.Click(`[data-testid="settings-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="saved"]`),
	)
	if open := evalJS[bool](t, ctx, `document.querySelector('[data-testid="open"]').checked`); open {
		t.Errorf("after unchecking and saving, the open box is checked")
	}
	screenshot(t, ctx, "accounts-settings")

	do("sign out, and find the closed lab asking for a sign-in",
		chromedp.Click(`[data-testid="sign-out"]`),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
		chromedp.Navigate(ts.URL+"/exercises/connect"),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
	)
	screenshot(t, ctx, "accounts-sign-in")

	do("Bob sets his password and opens an exercise",
		chromedp.Navigate(bobLink),
		chromedp.WaitVisible(`[data-testid="link-form"]`),
		chromedp.SendKeys(`[data-testid="password"]`, "bob's password"),
		chromedp.Click(`[data-testid="link-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="catalogue"]`),
		chromedp.Click(`[data-testid="exercise-connect"] a`),
		chromedp.WaitVisible(`.cm-editor`),
	)
	if got := text(`[data-testid="signed-in-as"]`); got != "Bob" {
		t.Errorf("Bob's header says %q", got)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="nav-people"]').length`); n != 0 {
		t.Errorf("a student's header shows the People link")
	}

	do("Bob signs out; Ada signs in and lands where she was going",
		chromedp.Click(`[data-testid="sign-out"]`),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
		chromedp.Navigate(ts.URL+"/people"),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
		chromedp.SendKeys(`[data-testid="email"]`, "ada@example.edu"),
		chromedp.SendKeys(`[data-testid="password"]`, "correct horse"),
		chromedp.Click(`[data-testid="sign-in-form"] [data-testid="submit"]`),
		chromedp.WaitVisible(`[data-testid="people"]`),
	)
	if got := text(`[data-testid="person-bob@example.edu"] td:nth-child(5)`); got != "set" {
		t.Errorf("Bob's password column says %q after he set it, want \"set\"", got)
	}
	do("Ada signs out everywhere",
		chromedp.Click(`[data-testid="sign-out-everywhere"]`),
		chromedp.WaitVisible(`[data-testid="sign-in-form"]`),
	)
	ada, err := store.UserByEmail(context.Background(), "ada@example.edu")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := store.DeleteSessions(context.Background(), ada.ID); n != 0 {
		t.Errorf("after signing out everywhere Ada still had %d sessions", n)
	}
}

// classroomLab starts a server with no grader on a new SQLite store and
// returns it with the first start's setup link.
func classroomLab(t *testing.T) (*httptest.Server, labs.Store, string) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Exercises: catalog.All(), Store: store})
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })
	link, err := s.Setup(context.Background(), ts.URL)
	if err != nil || link == "" {
		t.Fatalf("Setup = %q, %v", link, err)
	}
	return ts, store, link
}

// steps returns a function that runs chromedp actions in the tab ctx,
// failing the test with what was being done.
func steps(t *testing.T, ctx context.Context) func(string, ...chromedp.Action[chromedp.Void]) {
	return func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// A step that hangs (a selector that never shows) fails fast. A
		// timeout on a tab that has run limits this call only.
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}
