package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/labs"
)

// The people of the authorization matrix.
const (
	anonymous    = "anonymous"
	student      = "student"          // Bob, in the course; the run is his
	classmate    = "classmate"        // Carol, in the same course
	otherStudent = "other student"    // Frank, a student of another course
	ta           = "TA"               // Erin, a TA of the course
	instructor   = "instructor"       // Ada, the instance's and the course's instructor
	otherTeacher = "other instructor" // Ivan, an instructor of another course only
)

var everyone = []string{anonymous, student, classmate, otherStudent, ta, instructor, otherTeacher}

// expect builds a row of the matrix: def for everyone not named.
func expect(def int, except ...any) map[string]int {
	m := map[string]int{}
	for _, p := range everyone {
		m[p] = def
	}
	for i := 0; i < len(except); i += 2 {
		m[except[i].(string)] = except[i+1].(int)
	}
	return m
}

// TestAuthorizationMatrix asks every route as each kind of person, with
// real ids of things they may not see (IDOR), and every state change
// without its CSRF token.
func TestAuthorizationMatrix(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	other := createCourse(t, ada, "Networks")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\nCarol,carol@example.edu,A\n"}})
	b := map[string]*browser{anonymous: ts.browser(t), instructor: ada,
		student:   usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password"),
		classmate: usesLink(t, ts, issuedFor(t, page, "carol@example.edu"), "carol's password")}
	_, page = ada.post(other+"/roster", url.Values{"csv": {"Frank,frank@example.edu,A\nIvan,ivan@example.edu,\n"}})
	b[otherStudent] = usesLink(t, ts, issuedFor(t, page, "frank@example.edu"), "frank's password")
	b[otherTeacher] = usesLink(t, ts, issuedFor(t, page, "ivan@example.edu"), "ivan's password")
	wantStatus(t, "make Ivan an instructor of Networks", first2(ada.post(other+"/members", url.Values{"email": {"ivan@example.edu"}, "role": {"instructor"}})), http.StatusSeeOther)
	_, page = ada.post("/people", url.Values{"name": {"Erin"}, "email": {"erin@example.edu"}, "role": {"student"}})
	b[ta] = usesLink(t, ts, issued(t, page), "erin's password")
	wantStatus(t, "make Erin a TA", first2(ada.post(course+"/members", url.Values{"email": {"erin@example.edu"}, "role": {"ta"}})), http.StatusSeeOther)
	now := time.Now()
	assignment := "/assignments/" + createAssignment(t, ada, course, "Week 1", now.Add(-time.Hour), now.Add(time.Hour), "", 0)

	// Bob's run, with a trace.
	bob, _ := ts.store.UserByEmail(ctx, "bob@example.edu")
	run := labs.NewRunID(now)
	var buf bytes.Buffer
	trace.Encode(&buf, smallTrace())
	if err := ts.store.CreateRun(ctx, &labs.Run{ID: run, Exercise: "connect", Mode: labs.ModeSubmit, Client: bob.ID, Code: "x", Created: now}); err != nil {
		t.Fatal(err)
	}
	ts.store.StartRun(ctx, run, now)
	if err := ts.store.FinishRun(ctx, run, labs.Outcome{Verdict: "ran", Result: []byte(`{}`), Finished: now}, []labs.Trace{{Track: "listener-epoll", Data: buf.Bytes()}}); err != nil {
		t.Fatal(err)
	}

	// A regrade of Bob's run.
	if err := ts.store.CreateRegrade(ctx, &labs.Regrade{ID: "rg-1", Assignment: strings.TrimPrefix(assignment, "/assignments/"), Scope: "Bob's", By: "u-x", At: now,
		Items: []labs.RegradeItem{{Submission: run, Run: "r-again", User: bob.ID, Exercise: "connect"}}}, "regraded"); err != nil {
		t.Fatal(err)
	}

	const ok, see, login, gone, no = http.StatusOK, http.StatusSeeOther, http.StatusSeeOther, http.StatusNotFound, http.StatusForbidden
	hisRun := expect(gone, student, ok, ta, ok, instructor, ok)
	courseStaff := expect(gone, anonymous, login, student, gone, classmate, gone, ta, ok, instructor, ok)
	courseMembers := expect(gone, anonymous, login, student, ok, classmate, ok, ta, ok, instructor, ok)
	for _, tt := range []struct {
		path string
		want map[string]int
	}{
		{"/", expect(ok)},
		{"/exercises/connect", expect(ok)},
		{"/runs/" + run, hisRun},
		{"/runs/" + run + "/export/listener-epoll.json", hisRun},
		{"/compare?a=" + run + "&b=" + run, hisRun},
		{"/courses", expect(ok, anonymous, login)},
		{course, courseMembers},
		{course + "/roster.csv", courseStaff},
		{course + "/grades.csv", courseStaff},
		{course + "/grades", courseStaff},
		{course + "/assignments/new", expect(gone, anonymous, login, student, no, classmate, no, ta, no, instructor, ok)},
		{assignment, courseMembers},
		{assignment + "/dashboard", courseStaff},
		{assignment + "/students/" + bob.ID, expect(gone, anonymous, login, student, ok, ta, ok, instructor, ok)},
		{"/regrades/rg-1", courseStaff},
		{course + "/watch", courseMembers},
		{assignment + "/edit", expect(gone, anonymous, login, student, no, classmate, no, ta, no, instructor, ok)},
		{"/api/watching", expect(ok)},
		{"/people", expect(no, anonymous, login, instructor, ok)},
		{"/settings", expect(no, anonymous, login, instructor, ok)},
		{"/join", expect(ok)},
		{"/signin", expect(see, anonymous, ok)},
	} {
		for _, who := range everyone {
			resp, _ := b[who].get(tt.path)
			if resp.StatusCode != tt.want[who] {
				t.Errorf("%s GET %s = %d, want %d", who, tt.path, resp.StatusCode, tt.want[who])
			}
			if tt.want[who] == login && who == anonymous && !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
				t.Errorf("%s GET %s went to %q, want the sign-in page", who, tt.path, resp.Header.Get("Location"))
			}
		}
	}
	// The websocket of Bob's run.
	u, _ := url.Parse(ts.URL)
	for _, who := range everyone {
		var cookies []string
		for _, c := range b[who].c.Jar.Cookies(u) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws/runs/"+run, http.Header{"Cookie": {strings.Join(cookies, "; ")}})
		if conn != nil {
			conn.Close()
		}
		status := http.StatusSwitchingProtocols
		if err != nil {
			status = resp.StatusCode
		}
		if want := map[int]int{ok: http.StatusSwitchingProtocols, gone: gone}[hisRun[who]]; status != want {
			t.Errorf("%s opens the websocket of Bob's run: %d, want %d", who, status, want)
		}
	}
	// The websocket of the course's "watch with me" session.
	for who, want := range expect(gone, anonymous, login, student, http.StatusSwitchingProtocols, classmate, http.StatusSwitchingProtocols,
		ta, http.StatusSwitchingProtocols, instructor, http.StatusSwitchingProtocols) {
		var cookies []string
		for _, c := range b[who].c.Jar.Cookies(u) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws"+course+"/watch", http.Header{"Cookie": {strings.Join(cookies, "; ")}})
		status := http.StatusSwitchingProtocols
		if conn != nil {
			conn.Close()
		}
		if err != nil {
			status = resp.StatusCode
		}
		if status != want {
			t.Errorf("%s opens the course's watch socket: %d, want %d", who, status, want)
		}
	}

	// State changes, each first without its CSRF token (refused for
	// everyone), then with it. The forms are harmless: what is allowed
	// either changes nothing that matters here or is refused as invalid.
	const bad, unauth = http.StatusBadRequest, http.StatusUnauthorized
	for _, tt := range []struct {
		path string
		form url.Values
		want map[string]int
	}{
		{"/people", url.Values{}, expect(no, anonymous, unauth, instructor, bad)},
		{"/people/" + bob.ID + "/link", url.Values{}, expect(no, anonymous, unauth, instructor, ok)},
		{"/settings", url.Values{"open": {"on"}}, expect(no, anonymous, unauth, instructor, see)},
		{"/courses", url.Values{}, expect(no, anonymous, unauth, instructor, bad)},
		{course + "/roster", url.Values{"csv": {"x"}}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{course + "/members", url.Values{"email": {"nobody@example.edu"}, "role": {"ta"}}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{course + "/joincode", url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, see)},
		{course + "/assignments", url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{assignment + "/extensions", url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{assignment + "/overrides", url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{assignment, url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{assignment + "/regrade", url.Values{"scope": {"none"}}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, bad)},
		{"/watch", url.Values{"course": {strings.TrimPrefix(course, "/courses/")}, "run": {run}}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, no, instructor, no)},
		{course + "/watch/end", url.Values{}, expect(gone, anonymous, unauth, student, no, classmate, no, ta, see, instructor, see)},
		{"/join", url.Values{"code": {"NOPE"}}, expect(gone)},
	} {
		for _, who := range everyone {
			form := url.Values{"csrf": {""}}
			if resp, _ := b[who].post(tt.path, form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s without a CSRF token = %d, want 403", who, tt.path, resp.StatusCode)
			}
			form = url.Values{}
			for k, v := range tt.form {
				form[k] = v
			}
			if resp, _ := b[who].post(tt.path, form); resp.StatusCode != tt.want[who] {
				t.Errorf("%s POST %s = %d, want %d", who, tt.path, resp.StatusCode, tt.want[who])
			}
		}
	}
	// Submitting for the assignment: its course's members may.
	for who, want := range expect(gone, anonymous, unauth, student, http.StatusAccepted, classmate, http.StatusAccepted, ta, http.StatusAccepted, instructor, http.StatusAccepted) {
		if code, out := b[who].submitFor("connect", strings.TrimPrefix(assignment, "/assignments/"), "submit"); code != want {
			t.Errorf("%s submits for the assignment = %d %v, want %d", who, code, out, want)
		}
	}
	// The API refuses a run without its CSRF header, whoever asks.
	body, _ := json.Marshal(map[string]string{"code": "package handler\n", "mode": "run"})
	for _, who := range everyone {
		req, _ := http.NewRequest("POST", ts.URL+"/api/exercises/connect/runs", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if resp, _ := b[who].do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s starts a run without the CSRF header = %d, want 403", who, resp.StatusCode)
		}
	}
}
