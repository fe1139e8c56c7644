package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cellOf returns the text of the element with data-testid=id inside the
// row with data-testid=row of page: the shape the templates render.
func cellOf(t *testing.T, page, row, id string) string {
	t.Helper()
	start := strings.Index(page, `data-testid="`+row+`"`)
	if start < 0 {
		t.Fatalf("the page has no row %q", row)
	}
	rest := page[start:]
	if end := strings.Index(rest, "</tr>"); end >= 0 {
		rest = rest[:end]
	}
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</t[dh]>`).FindStringSubmatch(rest)
	if m == nil {
		t.Fatalf("row %q has no %q", row, id)
	}
	return strings.TrimSpace(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
}

// TestRegrade regrades after an exercise changed: one student's
// submissions, then every one. Each regrade's page shows every submission
// and every total before and after, the gradebook follows, the late
// credit stays, the first grading is kept, and only the course's
// instructors may regrade.
func TestRegrade(t *testing.T) {
	ts := newServer(t, nil)
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\nCarol,carol@example.edu,A\nErin,erin@example.edu,A\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	carol := usesLink(t, ts, issuedFor(t, page, "carol@example.edu"), "carol's password")
	erin := usesLink(t, ts, issuedFor(t, page, "erin@example.edu"), "erin's password")
	wantStatus(t, "make Erin a TA", first2(ada.post(course+"/members", url.Values{"email": {"erin@example.edu"}, "role": {"ta"}})), http.StatusSeeOther)

	// Due an hour ago, 50% credit for a day after: every submission is late.
	now := time.Now()
	id := createAssignment(t, ada, course, "Week 1", now.Add(-2*time.Hour), now.Add(-time.Hour), "24 50", 0)
	assignment := "/assignments/" + id
	for _, b := range []*browser{bob, bob, carol} {
		if code, out := b.submitFor("connect", id, "submit"); code != http.StatusAccepted {
			t.Fatalf("submit = %d %v", code, out)
		}
	}
	waitFinished(t, ts.store)
	total := func(email string) string {
		_, page := ada.get(assignment)
		return cellOf(t, page, "grade-"+email, "total")
	}
	// 1/1 on connect's 10 points, at 50%.
	if b, c := total("bob@example.edu"), total("carol@example.edu"); b != "5.00" || c != "5.00" {
		t.Fatalf("totals before = %s, %s; want 5.00 each", b, c)
	}

	regrade := func(b *browser, form url.Values) (*http.Response, string) {
		t.Helper()
		return b.post(assignment+"/regrade", form)
	}
	bobsID := func() string {
		u, err := ts.store.UserByEmail(context.Background(), "bob@example.edu")
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}()
	// Only the course's instructors regrade.
	for who, b := range map[string]*browser{"a TA": erin, "a student": bob} {
		if resp, _ := regrade(b, url.Values{"scope": {"student"}, "user": {bobsID}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s regrades = %d, want 403", who, resp.StatusCode)
		}
	}
	for _, form := range []url.Values{{"scope": {"everything"}}, {"scope": {"student"}, "user": {"u-nobody"}}, {"scope": {"submission"}, "run": {"nope"}}} {
		if resp, _ := regrade(ada, form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("regrade %v = %d, want 400", form, resp.StatusCode)
		}
	}

	// The exercise changes: every grading now fails one of two checks.
	ts.grader.failing.Store(1)
	resp, _ := regrade(ada, url.Values{"scope": {"student"}, "user": {bobsID}})
	wantStatus(t, "regrade Bob", resp, http.StatusSeeOther)
	first := resp.Header.Get("Location")
	if !strings.HasPrefix(first, "/regrades/rg-") {
		t.Fatalf("a regrade went to %q, want its page", first)
	}
	waitFinished(t, ts.store)
	_, page = ada.get(first)
	if got := cellOf(t, page, "total-bob@example.edu", "before"); got != "5.00" {
		t.Errorf("Bob's total before = %q, want 5.00", got)
	}
	if got := cellOf(t, page, "total-bob@example.edu", "now"); got != "2.50" {
		t.Errorf("Bob's total now = %q, want 2.50 (1/2 of 10 points at 50%%)", got)
	}
	if strings.Contains(page, "total-carol@example.edu") {
		t.Error("Bob's regrade lists Carol")
	}
	if got := regexp.MustCompile(`data-testid="regrade-changed">(\d+)<`).FindStringSubmatch(page); got == nil || got[1] != "2" {
		t.Errorf("the regrade says %v scored differently, want 2", got)
	}
	if n := strings.Count(page, "1 / 1"); n != 2 || strings.Count(page, "1 / 2 (failed)") != 2 {
		t.Errorf("the regrade's items show %d befores of 1 / 1 and %d afters of 1 / 2, want 2 each:\n%s", n, strings.Count(page, "1 / 2 (failed)"), page)
	}
	if b, c := total("bob@example.edu"), total("carol@example.edu"); b != "2.50" || c != "5.00" {
		t.Errorf("totals after Bob's regrade = %s, %s; want 2.50 and Carol's 5.00 untouched", b, c)
	}

	// Bob sees both gradings of his submissions; Carol may not look.
	mine := assignment + "/students/" + bobsID
	resp, page = bob.get(mine)
	wantStatus(t, "Bob's submissions", resp, http.StatusOK)
	if n := strings.Count(page, `data-testid="regraded"`); n != 2 {
		t.Errorf("Bob's page shows %d regrades, want 2", n)
	}
	if strings.Count(page, `data-testid="counted"`) != 1 || !strings.Contains(page, "compare with the one before") {
		t.Errorf("Bob's page should mark the one submission that counts and compare the second with the first:\n%s", page)
	}
	if strings.Contains(page, "regrade-one") {
		t.Error("Bob is offered a regrade button")
	}
	wantStatus(t, "Carol opens Bob's submissions", first2(carol.get(mine)), http.StatusNotFound)
	wantStatus(t, "Erin (TA) opens Bob's submissions", first2(erin.get(mine)), http.StatusOK)
	wantStatus(t, "Carol opens the regrade", first2(carol.get(first)), http.StatusNotFound)

	// A harsher change, and every submission regraded: the totals before
	// are what the first regrade left.
	ts.grader.failing.Store(2)
	resp, _ = regrade(ada, url.Values{"scope": {"all"}})
	wantStatus(t, "regrade every submission", resp, http.StatusSeeOther)
	all := resp.Header.Get("Location")
	waitFinished(t, ts.store)
	_, page = ada.get(all)
	for email, want := range map[string][2]string{"bob@example.edu": {"2.50", "0.00"}, "carol@example.edu": {"5.00", "0.00"}} {
		if b, n := cellOf(t, page, "total-"+email, "before"), cellOf(t, page, "total-"+email, "now"); b != want[0] || n != want[1] {
			t.Errorf("%s: before %s, now %s; want %s, %s", email, b, n, want[0], want[1])
		}
	}
	_, page = ada.get(assignment)
	if strings.Count(page, "/regrades/rg-") != 2 || !strings.Contains(page, "regraded every submission: 3 submission(s) of 2 student(s)") {
		t.Errorf("the assignment page should list both regrades and audit them:\n%s", page)
	}
	// The first grading is kept: Bob's submissions still say 1/1.
	subs, err := ts.store.Submissions(context.Background(), id, bobsID)
	if err != nil {
		t.Fatal(err)
	}
	originals := 0
	for _, r := range subs {
		if r.Regrades == "" {
			originals++
			if r.Score != 1 || r.Max != 1 {
				t.Errorf("submission %s now scores %d/%d; its first grading must stay 1/1", r.ID, r.Score, r.Max)
			}
		}
	}
	if originals != 2 || len(subs) != 6 {
		t.Errorf("Bob has %d submissions and %d runs for the assignment, want 2 and 6 (two regrades each)", originals, len(subs))
	}
}
