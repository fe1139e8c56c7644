package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/labs"
)

// submitFor submits a handler for an exercise from b, for an assignment
// ("" for none), and returns the status and the answer's id or error.
func (b *browser) submitFor(slug, assignment, mode string) (int, map[string]string) {
	b.t.Helper()
	_, page := b.get("/exercises/" + slug)
	tok := csrfAttr.FindStringSubmatch(page)
	if tok == nil {
		b.t.Fatalf("the exercise page has no CSRF token")
	}
	body, _ := json.Marshal(map[string]string{"code": "package handler\n", "mode": mode, "assignment": assignment})
	req, _ := http.NewRequest("POST", b.ts.URL+"/api/exercises/"+slug+"/runs", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok[1])
	resp, text := b.do(req)
	var out map[string]string
	json.Unmarshal([]byte(text), &out)
	return resp.StatusCode, out
}

// waitFinished waits until every run in store is finished.
func waitFinished(t *testing.T, store labs.Store) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if runs, err := store.Unfinished(context.Background()); err == nil && len(runs) == 0 {
			return
		}
	}
	t.Fatal("runs still unfinished after 30 s")
}

// local formats t for a datetime-local field in the course's time zone.
func local(t time.Time) string {
	paris, _ := time.LoadLocation("Europe/Paris")
	return t.In(paris).Format("2006-01-02T15:04")
}

func createAssignment(t *testing.T, b *browser, course, title string, opens, due time.Time, late string, max int) string {
	t.Helper()
	form := url.Values{"title": {title}, "exercise": {"connect", "batching"}, "points-connect": {"10"}, "points-batching": {"20"},
		"opens": {local(opens)}, "due": {local(due)}, "late": {late}, "scoring": {"best"}, "max": {strconv.Itoa(max)}}
	resp, page := b.post(course+"/assignments", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create assignment %s = %d:\n%s", title, resp.StatusCode, page)
	}
	return strings.TrimPrefix(resp.Header.Get("Location"), "/assignments/")
}

// TestAssignments walks an assignment: its dates and cap enforced when a
// submission arrives, late credit, an extension, each student's standing,
// and the gradebook and its CSV.
func TestAssignments(t *testing.T) {
	ts := newServer(t, nil)
	// The fake grader passes everything: every graded submission scores 1/1.
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\nCarol,carol@example.edu,B\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	carol := usesLink(t, ts, issuedFor(t, page, "carol@example.edu"), "carol's password")
	_, page = ada.post("/people", url.Values{"name": {"Dan"}, "email": {"dan@example.edu"}, "role": {"student"}})
	dan := usesLink(t, ts, issued(t, page), "dan's password") // in no course

	now := time.Now()
	if resp, _ := ada.post(course+"/assignments", url.Values{"title": {"x"}, "exercise": {"connect"}, "points-connect": {"10"},
		"opens": {local(now)}, "due": {local(now.Add(time.Hour))}, "late": {"24"}, "scoring": {"best"}, "max": {"0"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an assignment with a late window of no credit = %d, want 400", resp.StatusCode)
	}
	open := createAssignment(t, ada, course, "Week 1", now.Add(-time.Hour), now.Add(time.Hour), "24 80", 2)
	closed := createAssignment(t, ada, course, "Week 0", now.Add(-3*time.Hour), now.Add(-2*time.Hour), "", 0)
	late := createAssignment(t, ada, course, "Week 0.5", now.Add(-3*time.Hour), now.Add(-time.Hour), "24 50", 0)

	for _, tt := range []struct {
		who              string
		b                *browser
		slug, for_, mode string
		want             int
	}{
		{"Bob", bob, "connect", open, "submit", http.StatusAccepted},
		{"Bob again", bob, "connect", open, "submit", http.StatusAccepted},
		{"Bob past the cap", bob, "connect", open, "submit", http.StatusTooManyRequests},
		{"Bob, an exercise the assignment does not ask for", bob, "deadlock", open, "submit", http.StatusBadRequest},
		{"Bob, a practice run for the assignment", bob, "connect", open, "run", http.StatusBadRequest},
		{"Dan, in no course", dan, "connect", open, "submit", http.StatusNotFound},
		{"Bob, after the assignment closed", bob, "connect", closed, "submit", http.StatusForbidden},
		{"Carol, late", carol, "batching", late, "submit", http.StatusAccepted},
		{"anonymous", ts.browser(t), "connect", open, "submit", http.StatusUnauthorized},
	} {
		if code, out := tt.b.submitFor(tt.slug, tt.for_, tt.mode); code != tt.want {
			t.Errorf("%s submits = %d %v, want %d", tt.who, code, out, tt.want)
		}
	}
	// An extension reopens the closed assignment for Bob alone.
	resp, _ := ada.post("/assignments/"+closed+"/extensions", url.Values{"email": {"bob@example.edu"}, "due": {local(now.Add(time.Hour))}})
	wantStatus(t, "grant Bob an extension", resp, http.StatusSeeOther)
	if code, out := bob.submitFor("connect", closed, "submit"); code != http.StatusAccepted {
		t.Errorf("Bob submits with his extension = %d %v, want 202", code, out)
	}
	if code, _ := carol.submitFor("connect", closed, "submit"); code != http.StatusForbidden {
		t.Errorf("Carol submits to the closed assignment = %d, want 403: the extension is Bob's", code)
	}
	waitFinished(t, ts.store)

	// Bob's standing: the best of his two connect submissions, 10 of 10.
	_, page = bob.get("/assignments/" + open)
	if !strings.Contains(page, `data-testid="earned-connect">10.00 / 10<`) || !strings.Contains(page, `data-testid="my-total">10.00 / 30<`) {
		t.Errorf("Bob's assignment page does not show 10 of 30:\n%s", page)
	}
	if strings.Contains(page, `data-testid="gradebook"`) {
		t.Errorf("a student sees the gradebook")
	}
	_, page = carol.get("/assignments/" + late)
	if !strings.Contains(page, `data-testid="earned-batching">10.00 / 20<`) || !strings.Contains(page, "late, 50%") {
		t.Errorf("Carol's late submission does not show half credit:\n%s", page)
	}
	_, page = bob.get("/exercises/connect?assignment=" + open)
	if m := regexp.MustCompile(`data-testid="for-assignment">([^<]*<a[^>]*>[^<]*</a>[^<]*)`).FindStringSubmatch(page); m == nil || !strings.Contains(m[1], "0 of 2 submissions left") {
		t.Errorf("the exercise page opened for the assignment does not say 0 of 2 left: %v", m)
	}
	if resp, _ := dan.get("/assignments/" + open); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Dan, in no course, opens the assignment = %d, want 404", resp.StatusCode)
	}

	// The gradebook, filtered and sorted, and the course's CSV.
	_, page = ada.get("/assignments/" + open)
	for email, total := range map[string]string{"bob@example.edu": "10.00", "carol@example.edu": "0.00"} {
		i := strings.Index(page, `data-testid="grade-`+email+`"`)
		if i < 0 || !strings.Contains(page[i:], `data-testid="total">`+total+`<`) {
			t.Errorf("the gradebook does not give %s %s", email, total)
		}
	}
	_, page = ada.get("/assignments/" + open + "?section=B")
	if strings.Contains(page, `grade-bob@example.edu`) || !strings.Contains(page, `grade-carol@example.edu`) {
		t.Errorf("the gradebook filtered to section B shows the wrong students")
	}
	_, page = ada.get("/assignments/" + closed)
	paris, _ := time.LoadLocation("Europe/Paris")
	ext, _ := time.ParseInLocation("2006-01-02T15:04", local(now.Add(time.Hour)), paris)
	if i := strings.Index(page, `data-testid="grade-bob@example.edu"`); i < 0 || !strings.Contains(page[i:], "<td>"+ext.Format("Mon 2 Jan 2006 15:04 MST")+"</td>") {
		t.Errorf("the gradebook does not show Bob's extension to %s", ext)
	}
	resp, csv := ada.get(course + "/grades.csv")
	wantStatus(t, "export the course's grades", resp, http.StatusOK)
	want := "name,email,section,Week 0 (30),Week 0.5 (30),Week 1 (30),total (90)\n" +
		"Bob,bob@example.edu,A,10.00,0.00,10.00,20.00\n" +
		"Carol,carol@example.edu,B,0.00,10.00,0.00,10.00\n"
	if csv != want {
		t.Errorf("grades.csv =\n%s\nwant\n%s", csv, want)
	}
	// An override: Carol's connect on Week 1, with the reason she sees;
	// the gradebook marks it and the audit log keeps it. A TA may not.
	erinLink := func() string {
		_, page := ada.post("/people", url.Values{"name": {"Erin"}, "email": {"erin@example.edu"}, "role": {"student"}})
		return issued(t, page)
	}()
	erin := usesLink(t, ts, erinLink, "erin's password")
	ada.post(course+"/members", url.Values{"email": {"erin@example.edu"}, "role": {"ta"}})
	override := func() url.Values { // a new map each time: post adds the sender's token to it
		return url.Values{"email": {"carol@example.edu"}, "exercise": {"connect"}, "points": {"7.5"}, "comment": {"the grader missed your timeout path"}}
	}
	wantStatus(t, "a TA overrides", first2(erin.post("/assignments/"+open+"/overrides", override())), http.StatusForbidden)
	for name, form := range map[string]url.Values{
		"more points than the item has": {"email": {"carol@example.edu"}, "exercise": {"connect"}, "points": {"11"}, "comment": {"x"}},
		"no comment":                    {"email": {"carol@example.edu"}, "exercise": {"connect"}, "points": {"5"}, "comment": {""}},
		"an exercise not asked for":     {"email": {"carol@example.edu"}, "exercise": {"deadlock"}, "points": {"5"}, "comment": {"x"}},
		"someone not a student":         {"email": {"erin@example.edu"}, "exercise": {"connect"}, "points": {"5"}, "comment": {"x"}},
	} {
		wantStatus(t, "override with "+name, first2(ada.post("/assignments/"+open+"/overrides", form)), http.StatusBadRequest)
	}
	wantStatus(t, "Ada overrides Carol's connect", first2(ada.post("/assignments/"+open+"/overrides", override())), http.StatusSeeOther)
	_, page = carol.get("/assignments/" + open)
	if !strings.Contains(page, `data-testid="earned-connect">7.50 / 10<`) || !strings.Contains(page, "the grader missed your timeout path") {
		t.Errorf("Carol's page does not show the override and its reason:\n%s", page)
	}
	_, page = ada.get("/assignments/" + open)
	if i := strings.Index(page, `data-testid="grade-carol@example.edu"`); i < 0 || !strings.Contains(page[i:], `data-testid="total">7.50<`) || !strings.Contains(page[i:], `data-testid="overridden"`) {
		t.Errorf("the gradebook does not show Carol's override")
	}
	if !strings.Contains(page, "Ada set Carol (carol@example.edu) on connect to 7.50 of 10, was 0.00: the grader missed your timeout path") {
		t.Errorf("the audit log does not record the override:\n%s", page)
	}

	if _, csv := ada.get(course + "/grades.csv"); !strings.Contains(csv, "Carol,carol@example.edu,B,0.00,10.00,7.50,17.50\n") {
		t.Errorf("grades.csv after the override =\n%s", csv)
	}
	// The course's gradebook: the same totals, sorted and filtered.
	resp, page = ada.get(course + "/grades?sort=total")
	wantStatus(t, "the course's gradebook", resp, http.StatusOK)
	if b, c := cellOf(t, page, "grade-bob@example.edu", "total"), cellOf(t, page, "grade-carol@example.edu", "total"); b != "20.00" || c != "17.50" {
		t.Errorf("the course's gradebook gives Bob %s and Carol %s, want 20.00 and 17.50", b, c)
	}
	if strings.Index(page, "grade-bob@example.edu") > strings.Index(page, "grade-carol@example.edu") {
		t.Errorf("sorted by total, Bob (20.00) should come before Carol (17.50)")
	}
	if !strings.Contains(page, "/assignments/"+late+"/students/") || !strings.Contains(page, ">late</span>") {
		t.Errorf("the course's gradebook should link each cell to the student's submissions and mark late credit")
	}
	if _, page := ada.get(course + "/grades?section=A"); strings.Contains(page, "grade-carol@example.edu") || !strings.Contains(page, "grade-bob@example.edu") {
		t.Errorf("the course's gradebook filtered to section A shows the wrong students")
	}
	wantStatus(t, "Bob opens the course's gradebook", first2(bob.get(course+"/grades")), http.StatusNotFound)

	// Home pages list what each can still submit for.
	_, bobHome := bob.get("/")
	_, carolHome := carol.get("/")
	for _, tt := range []struct {
		who, page, id string
		want          bool
	}{
		{"Bob", bobHome, open, true},
		{"Bob", bobHome, closed, true}, // his extension keeps it open
		{"Carol", carolHome, closed, false},
		{"Carol", carolHome, late, true}, // in its late window
	} {
		if got := strings.Contains(tt.page, `data-testid="open-`+tt.id+`"`); got != tt.want {
			t.Errorf("%s's home lists assignment %s: %v, want %v", tt.who, tt.id, got, tt.want)
		}
	}
	if !strings.Contains(bobHome, "10.00 / 30") {
		t.Errorf("Bob's home does not show his 10 of 30 on Week 1")
	}
	if resp, _ := bob.get(course + "/grades.csv"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a student gets the course's grades = %d, want 404", resp.StatusCode)
	}
}

// TestEditAssignment: an instructor edits an assignment; the gradebook
// follows the new points and late windows at once, the audit log says
// what changed, a refused edit keeps what was typed, and only the
// course's instructors may edit.
func TestEditAssignment(t *testing.T) {
	ts := newServer(t, nil)
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	now := time.Now()
	// Due an hour ago, 50% for a day: Bob's submission is late.
	id := createAssignment(t, ada, course, "Week 1", now.Add(-2*time.Hour), now.Add(-time.Hour), "24 50", 0)
	if code, out := bob.submitFor("connect", id, "submit"); code != http.StatusAccepted {
		t.Fatalf("Bob submits = %d %v", code, out)
	}
	waitFinished(t, ts.store)
	total := func() string {
		_, page := ada.get("/assignments/" + id)
		return cellOf(t, page, "grade-bob@example.edu", "total")
	}
	if got := total(); got != "5.00" {
		t.Fatalf("Bob's total = %s, want 5.00 (10 points at 50%%)", got)
	}

	resp, page := ada.get("/assignments/" + id + "/edit")
	wantStatus(t, "the edit form", resp, http.StatusOK)
	for _, want := range []string{`value="Week 1"`, `value="` + local(now.Add(-time.Hour)) + `"`, ">24 50</textarea>", `value="connect" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("the edit form lacks %q", want)
		}
	}
	wantStatus(t, "Bob opens the edit form", first2(bob.get("/assignments/"+id+"/edit")), http.StatusForbidden)
	edit := func(title, due, late string) url.Values {
		return url.Values{"title": {title}, "exercise": {"connect", "batching"}, "points-connect": {"20"}, "points-batching": {"20"},
			"opens": {local(now.Add(-2 * time.Hour))}, "due": {due}, "late": {late}, "scoring": {"best"}, "max": {"0"}, "feedback": {"all"}}
	}
	wantStatus(t, "Bob edits", first2(bob.post("/assignments/"+id, edit("Mine", local(now), ""))), http.StatusForbidden)
	resp, page = ada.post("/assignments/"+id, edit("Week 1, again", local(now.Add(-3*time.Hour)), ""))
	wantStatus(t, "a due time before the opening", resp, http.StatusBadRequest)
	if !strings.Contains(page, "The due time is before the opening.") || !strings.Contains(page, `value="Week 1, again"`) {
		t.Errorf("a refused edit should say why and keep what was typed:\n%s", mainOf(page))
	}
	// Twice the points, and the due time moved past Bob's submission.
	wantStatus(t, "Ada edits", first2(ada.post("/assignments/"+id, edit("Week 1", local(now.Add(time.Hour)), "24 50"))), http.StatusSeeOther)
	if got := total(); got != "20.00" {
		t.Errorf("after the edit Bob's total = %s, want 20.00 (20 points, on time now)", got)
	}
	_, page = ada.get("/assignments/" + id)
	if !strings.Contains(page, "Ada edited the assignment: exercises connect 10, batching 20 → connect 20, batching 20; due ") {
		t.Errorf("the audit log does not say what changed:\n%s", mainOf(page))
	}
	if !strings.Contains(page, `data-testid="edit"`) {
		t.Errorf("the instructor's assignment page has no edit link")
	}
}
