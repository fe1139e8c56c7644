package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mainOf is a page's <main>, without its CSRF tokens, which differ between
// browsers.
func mainOf(page string) string {
	i, j := strings.Index(page, "<main>"), strings.Index(page, "</main>")
	if i < 0 || j < i {
		return ""
	}
	return regexp.MustCompile(`name="csrf" value="[0-9a-f]{32}"`).ReplaceAllString(page[i:j], "")
}

// View as student: a course's staff member sees exactly the student's
// pages, read-only; nobody else can look through a student's eyes.
func TestViewAsStudent(t *testing.T) {
	ts := newServer(t, nil)
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	other := createCourse(t, ada, "Networks")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\nCarol,carol@example.edu,B\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	carol := usesLink(t, ts, issuedFor(t, page, "carol@example.edu"), "carol's password")
	_, page = ada.post(other+"/roster", url.Values{"csv": {"Frank,frank@example.edu,A\n"}})
	usesLink(t, ts, issuedFor(t, page, "frank@example.edu"), "frank's password")
	now := time.Now()
	a := createAssignment(t, ada, course, "Week 1", now.Add(-time.Hour), now.Add(time.Hour), "", 2)
	if code, _ := bob.submitFor("connect", a, "submit"); code != http.StatusAccepted {
		t.Fatalf("Bob submits = %d", code)
	}
	waitFinished(t, ts.store)
	bobU, _ := ts.store.UserByEmail(t.Context(), "bob@example.edu")
	frankU, _ := ts.store.UserByEmail(t.Context(), "frank@example.edu")

	// Carol cannot look through Bob's eyes by setting the cookie herself.
	u, _ := url.Parse(ts.URL)
	carol.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lab_view_as", Value: bobU.ID, Path: "/"}})
	if _, page := carol.get("/assignments/" + a); !strings.Contains(page, `data-testid="signed-in-as">Carol<`) || strings.Contains(page, "viewing-as") {
		t.Errorf("Carol with Bob's id in her view-as cookie is not herself")
	}
	wantStatus(t, "Ada views as someone who does not exist", first2(ada.post("/view-as", url.Values{"user": {"u-nobody"}})), http.StatusNotFound)
	// Ada teaches Frank too (she made Networks), so she may view as him.
	wantStatus(t, "Ada views as Frank", first2(ada.post("/view-as", url.Values{"user": {frankU.ID}})), http.StatusSeeOther)
	wantStatus(t, "stop", first2(ada.post("/view-as/stop", nil)), http.StatusSeeOther)

	resp, _ := ada.post("/view-as", url.Values{"user": {bobU.ID}, "next": {"/assignments/" + a}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/assignments/"+a {
		t.Fatalf("Ada views as Bob = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/", "/assignments/" + a, "/courses", course} {
		_, his := bob.get(path)
		_, seen := ada.get(path)
		if mainOf(his) == "" || mainOf(his) != mainOf(seen) {
			t.Errorf("GET %s viewing as Bob differs from Bob's own page:\nBob's:\n%s\nseen:\n%s", path, mainOf(his), mainOf(seen))
		}
		if !strings.Contains(seen, `data-testid="viewing-as">Ada, viewing as<`) {
			t.Errorf("GET %s viewing as Bob does not say who is looking", path)
		}
	}
	// Read-only: no form and no run goes through.
	wantStatus(t, "a form while viewing as", first2(ada.post("/people", url.Values{"name": {"X"}, "email": {"x@example.edu"}, "role": {"student"}})), http.StatusForbidden)
	if code, _ := ada.submitFor("connect", a, "submit"); code != http.StatusForbidden {
		t.Errorf("a submission while viewing as Bob = %d, want 403", code)
	}
	wantStatus(t, "stop viewing as Bob", first2(ada.post("/view-as/stop", nil)), http.StatusSeeOther)
	if _, page := ada.get("/assignments/" + a); !strings.Contains(page, `data-testid="gradebook"`) {
		t.Errorf("after stopping, Ada does not see the gradebook")
	}
}
