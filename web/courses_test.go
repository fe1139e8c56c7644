package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/labs"
)

// firstInstructor makes Ada, the instance's instructor, through the setup
// link, and returns her browser.
func firstInstructor(t *testing.T, ts *testServer) *browser {
	t.Helper()
	link, err := ts.srv.Setup(context.Background(), ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	ada := ts.browser(t)
	resp, _ := ada.post(strings.TrimPrefix(link, ts.URL), url.Values{"name": {"Ada"}, "email": {"ada@example.edu"}, "password": {"ada's password"}})
	wantStatus(t, "Ada's setup", resp, http.StatusSeeOther)
	return ada
}

// usesLink sets a password with a one-time link in a new browser.
func usesLink(t *testing.T, ts *testServer, link, password string) *browser {
	t.Helper()
	b := ts.browser(t)
	resp, _ := b.post(strings.TrimPrefix(link, ts.URL), url.Values{"password": {password}})
	wantStatus(t, "set a password with "+link, resp, http.StatusSeeOther)
	return b
}

var linkURL = regexp.MustCompile(`value="(http://[^"]+/link/[0-9a-f]{64})"`)

// issuedFor returns the link a course page shows for email.
func issuedFor(t *testing.T, page, email string) string {
	t.Helper()
	i := strings.Index(page, `data-testid="issued-`+email+`"`)
	if i < 0 {
		t.Fatalf("the page shows no link for %s", email)
	}
	return linkURL.FindStringSubmatch(page[i:])[1]
}

func createCourse(t *testing.T, b *browser, name string) string {
	t.Helper()
	resp, _ := b.post("/courses", url.Values{"name": {name}, "term": {"Spring 2027"}, "tz": {"Europe/Paris"}})
	wantStatus(t, "create "+name, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/courses/c-") {
		t.Fatalf("creating a course went to %q", loc)
	}
	return loc
}

// TestCourses walks a course's roster: creating it, importing and
// exporting a roster, students joining by code, and who sees what.
func TestCourses(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()
	ada := firstInstructor(t, ts)

	if resp, _ := ada.post("/courses", url.Values{"name": {"OS"}, "term": {"Spring 2027"}, "tz": {"Mars/Olympus"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a course in time zone Mars/Olympus = %d, want 400", resp.StatusCode)
	}
	course := createCourse(t, ada, "Operating Systems")
	id := strings.TrimPrefix(course, "/courses/")

	// A roster with a mistake stores nothing.
	resp, page := ada.post(course+"/roster", url.Values{"csv": {"name,email,section\nBob,bob@example.edu,A\nCarol\n"}})
	wantStatus(t, "import a roster with a line of one field", resp, http.StatusBadRequest)
	if !strings.Contains(page, "line 3 has 1 fields") {
		t.Errorf("the error does not name line 3:\n%s", page)
	}
	if _, err := ts.store.UserByEmail(ctx, "bob@example.edu"); err == nil {
		t.Errorf("a refused roster made Bob's account")
	}
	roster := "name,email,section\nBob,Bob@Example.edu,A\nCarol,carol@example.edu,B\n\"=HYPERLINK(\"\"x\"\")\",mallory@example.edu,\n"
	resp, page = ada.post(course+"/roster", url.Values{"csv": {roster}})
	wantStatus(t, "import a roster", resp, http.StatusOK)
	if !strings.Contains(page, "3 added, 0 already here") {
		t.Errorf("the import summary is wrong:\n%s", page)
	}
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	// Again, with Bob in another section: nobody is added, and only the
	// people without a password get a new link.
	resp, page = ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,C\nCarol,carol@example.edu,B\n"}})
	wantStatus(t, "import the roster again", resp, http.StatusOK)
	if !strings.Contains(page, "0 added, 2 already here") || strings.Contains(page, `data-testid="issued-bob@example.edu"`) {
		t.Errorf("the second import summary is wrong:\n%s", page)
	}
	usesLink(t, ts, issuedFor(t, page, "carol@example.edu"), "carol's password")

	resp, csv := ada.get(course + "/roster.csv")
	wantStatus(t, "export the roster", resp, http.StatusOK)
	want := "name,email,section,role\n" +
		"Ada,ada@example.edu,,instructor\n" +
		"\"'=HYPERLINK(\"\"x\"\")\",mallory@example.edu,,student\n" +
		"Bob,bob@example.edu,C,student\n" +
		"Carol,carol@example.edu,B,student\n"
	if csv != want {
		t.Errorf("roster.csv =\n%s\nwant\n%s", csv, want)
	}

	// Dan has no account: the join code makes one and puts him in.
	_, page = ada.get(course)
	code := regexp.MustCompile(`data-testid="join-code">([A-Z0-9-]+)<`).FindStringSubmatch(page)
	if code == nil {
		t.Fatalf("the course page shows no join code")
	}
	dan := ts.browser(t)
	typed := strings.ToLower(strings.ReplaceAll(code[1], "-", " - "))
	resp, _ = dan.post("/join", url.Values{"code": {typed}, "name": {"Dan"}, "email": {"dan@example.edu"}, "password": {"dan's password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != course {
		t.Fatalf("Dan joins with %q = %d to %q, want 303 to %s", typed, resp.StatusCode, resp.Header.Get("Location"), course)
	}
	resp, page = dan.get(course)
	wantStatus(t, "Dan opens the course", resp, http.StatusOK)
	if !strings.Contains(page, `data-testid="course-role">student<`) || strings.Contains(page, `data-testid="roster"`) || strings.Contains(page, code[1]) {
		t.Errorf("a student's course page shows the wrong things:\n%s", page)
	}
	if resp, _ := ts.browser(t).post("/join", url.Values{"code": {code[1]}, "name": {"Bob again"}, "email": {"bob@example.edu"}, "password": {"whatever1"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("joining with an email that has an account = %d, want 409", resp.StatusCode)
	}
	if resp, _ := ts.browser(t).post("/join", url.Values{"code": {"NOPE-NOPE"}, "name": {"X"}, "email": {"x@example.edu"}, "password": {"whatever1"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("joining with a wrong code = %d, want 404", resp.StatusCode)
	}

	// Erin, a TA of the course; Frank, a student of another course.
	_, page = ada.post("/people", url.Values{"name": {"Erin"}, "email": {"erin@example.edu"}, "role": {"student"}})
	erin := usesLink(t, ts, issued(t, page), "erin's password")
	wantStatus(t, "make Erin a TA", first2(ada.post(course+"/members", url.Values{"email": {"erin@example.edu"}, "role": {"ta"}})), http.StatusSeeOther)
	other := createCourse(t, ada, "Networks")
	_, page = ada.post(other+"/roster", url.Values{"csv": {"Frank,frank@example.edu,A\n"}})
	frank := usesLink(t, ts, issuedFor(t, page, "frank@example.edu"), "frank's password")

	// A run of Bob's.
	bobU, _ := ts.store.UserByEmail(ctx, "bob@example.edu")
	run := labs.NewRunID(time.Now())
	var buf bytes.Buffer
	trace.Encode(&buf, smallTrace())
	if err := ts.store.CreateRun(ctx, &labs.Run{ID: run, Exercise: "connect", Mode: labs.ModeSubmit, Client: bobU.ID, Code: "x", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ts.store.StartRun(ctx, run, time.Now())
	if err := ts.store.FinishRun(ctx, run, labs.Outcome{Verdict: "ran", Result: []byte(`{}`), Finished: time.Now()}, []labs.Trace{{Track: "listener-epoll", Data: buf.Bytes()}}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		who  string
		b    *browser
		path string
		want int
	}{
		{"Erin (TA)", erin, course, http.StatusOK},
		{"Erin (TA)", erin, course + "/roster.csv", http.StatusOK},
		{"Erin (TA)", erin, "/runs/" + run, http.StatusOK},
		{"Dan (classmate)", dan, "/runs/" + run, http.StatusNotFound},
		{"Dan (student)", dan, course + "/roster.csv", http.StatusNotFound},
		{"Frank (other course)", frank, course, http.StatusNotFound},
		{"Frank (other course)", frank, course + "/roster.csv", http.StatusNotFound},
		{"Frank (other course)", frank, "/runs/" + run, http.StatusNotFound},
		{"Bob (owner)", bob, "/runs/" + run, http.StatusOK},
		{"Ada (instructor)", ada, other, http.StatusOK},
		{"anonymous", ts.browser(t), course, http.StatusSeeOther},
	} {
		resp, _ := tt.b.get(tt.path)
		wantStatus(t, tt.who+" GET "+tt.path, resp, tt.want)
	}
	for _, tt := range []struct {
		who  string
		b    *browser
		path string
		form url.Values
		want int
	}{
		{"Dan (student)", dan, course + "/roster", url.Values{"csv": {"Zed,zed@example.edu\n"}}, http.StatusForbidden},
		{"Erin (TA)", erin, course + "/roster", url.Values{"csv": {"Zed,zed@example.edu\n"}}, http.StatusForbidden},
		{"Erin (TA)", erin, course + "/members", url.Values{"email": {"dan@example.edu"}, "role": {"instructor"}}, http.StatusForbidden},
		{"Frank (other course)", frank, course + "/joincode", nil, http.StatusNotFound},
		{"Bob (student)", bob, "/courses", url.Values{"name": {"Mine"}, "term": {"now"}, "tz": {"UTC"}}, http.StatusForbidden},
	} {
		resp, _ := tt.b.post(tt.path, tt.form)
		wantStatus(t, tt.who+" POST "+tt.path, resp, tt.want)
	}
	if _, err := ts.store.UserByEmail(ctx, "zed@example.edu"); err == nil {
		t.Errorf("a refused import made an account")
	}

	// A new join code: the old one opens nothing.
	wantStatus(t, "new join code", first2(ada.post(course+"/joincode", nil)), http.StatusSeeOther)
	if _, err := ts.store.CourseByJoinCode(ctx, code[1]); err == nil {
		t.Errorf("the old join code still opens the course")
	}
	if c, _ := ts.store.Course(ctx, id); c == nil || c.JoinCode == code[1] {
		t.Errorf("the course kept its join code")
	}

	// A closed lab still lets a student with a code in.
	ada.post("/settings", url.Values{})
	wantStatus(t, "anonymous GET /join on a closed lab", first2(ts.browser(t).get("/join")), http.StatusOK)
}

func TestParseRosterLimits(t *testing.T) {
	ts := newServer(t, nil)
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Big")
	var b strings.Builder
	for i := range 2001 {
		b.WriteString("P," + "p" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "_" + strconv.Itoa(i) + "@example.edu\n")
	}
	resp, page := ada.post(course+"/roster", url.Values{"csv": {b.String()}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "at most 2000") {
		t.Errorf("a roster of 2001 = %d, want 400 naming the limit", resp.StatusCode)
	}
	resp, page = ada.post(course+"/roster", url.Values{"csv": {"A,a@example.edu\nB,A@example.edu\n"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "line 2 repeats a@example.edu, first on line 1") {
		t.Errorf("a roster naming one address twice = %d, want 400 naming both lines:\n%s", resp.StatusCode, page)
	}
}
