package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// resultOf reads a run's websocket as b until its result, and returns the
// result's verdict, message and number of checks.
func (b *browser) resultOf(id string) (verdict, message string, checks int) {
	b.t.Helper()
	u, _ := url.Parse(b.ts.URL)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.ts.URL, "http")+"/ws/runs/"+id, http.Header{"Cookie": {strings.Join(cookies, "; ")}})
	if err != nil {
		b.t.Fatalf("dial the run's websocket: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			b.t.Fatalf("no result on the websocket: %v", err)
		}
		var m struct {
			Type   string `json:"type"`
			Result struct {
				Verdict string            `json:"verdict"`
				Message string            `json:"message"`
				Checks  []json.RawMessage `json:"checks"`
			} `json:"result"`
		}
		if json.Unmarshal(msg, &m) == nil && m.Type == "result" {
			return m.Result.Verdict, m.Result.Message, len(m.Result.Checks)
		}
	}
}

// An assignment that shows only pass or fail before the due time: its
// student sees the verdict and no check, everywhere, until then; the
// staff see everything; after the due time the student does too.
func TestFeedbackUntilDue(t *testing.T) {
	ts := newServer(t, nil)
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	now := time.Now()
	mk := func(title string, opens, due time.Time, late string) string {
		form := url.Values{"title": {title}, "exercise": {"connect"}, "points-connect": {"10"}, "opens": {local(opens)}, "due": {local(due)},
			"late": {late}, "scoring": {"best"}, "max": {"0"}, "feedback": {"pass-fail"}}
		resp, page := ada.post(course+"/assignments", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create %s = %d:\n%s", title, resp.StatusCode, page)
		}
		return strings.TrimPrefix(resp.Header.Get("Location"), "/assignments/")
	}
	before := mk("Before the due time", now.Add(-time.Hour), now.Add(time.Hour), "")
	after := mk("After the due time", now.Add(-3*time.Hour), now.Add(-2*time.Hour), "24 50")

	code, out := bob.submitFor("connect", before, "submit")
	if code != http.StatusAccepted {
		t.Fatalf("Bob submits = %d %v", code, out)
	}
	early := out["id"]
	code, out = bob.submitFor("connect", after, "submit")
	if code != http.StatusAccepted {
		t.Fatalf("Bob submits late = %d %v", code, out)
	}
	late := out["id"]
	waitFinished(t, ts.store)

	if verdict, msg, checks := bob.resultOf(early); verdict != "passed" || checks != 0 || !strings.Contains(msg, "only whether a submission passes") {
		t.Errorf("before the due time Bob's result = %q, %q, %d checks; want passed, the reason, none", verdict, msg, checks)
	}
	if verdict, _, checks := ada.resultOf(early); verdict != "passed" || checks == 0 {
		t.Errorf("the instructor's view of Bob's result = %q with %d checks, want every check", verdict, checks)
	}
	if _, _, checks := bob.resultOf(late); checks == 0 {
		t.Errorf("after the due time Bob's result shows no check")
	}
	_, page = bob.get("/assignments/" + before)
	if !strings.Contains(page, `data-testid="earned-connect">passed<`) || !strings.Contains(page, "shown after the due time") || strings.Contains(page, "10.00") {
		t.Errorf("Bob's assignment page before the due time shows points:\n%s", mainOf(page))
	}
	_, page = bob.get("/assignments/" + after)
	if !strings.Contains(page, `data-testid="earned-connect">5.00 / 10<`) {
		t.Errorf("Bob's assignment page after the due time does not show his points:\n%s", mainOf(page))
	}
	if _, home := bob.get("/"); !strings.Contains(home, "after the due time") || strings.Contains(home, "10.00 / 10") {
		t.Errorf("Bob's home shows the score of an assignment that hides it until the due time")
	}
}
