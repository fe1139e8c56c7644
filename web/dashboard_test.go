package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/labs"
)

func TestDashboard(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\nCarol,carol@example.edu,A\nDan,dan@example.edu,B\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	now := time.Now().Truncate(time.Minute)
	a := createAssignment(t, ada, course, "Week 1", now.Add(-time.Hour), now.Add(time.Hour), "", 0)
	opens, _ := time.ParseInLocation("2006-01-02T15:04", local(now.Add(-time.Hour)), mustParis(t))

	// Bob passes 30 minutes after the opening; Carol fails a check twice;
	// Dan submits nothing.
	store := func(email string, at time.Duration, score int, result string) string {
		u, _ := ts.store.UserByEmail(ctx, email)
		id := labs.NewRunID(opens.Add(at))
		r := &labs.Run{ID: id, Exercise: "connect", Mode: labs.ModeSubmit, Client: u.ID, Code: "x", Created: opens.Add(at), Assignment: a}
		if err := ts.store.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		ts.store.StartRun(ctx, id, opens.Add(at))
		if err := ts.store.FinishRun(ctx, id, labs.Outcome{Verdict: "x", Score: score, Max: 10, Result: []byte(result), Finished: opens.Add(at)}, nil); err != nil {
			t.Fatal(err)
		}
		return id
	}
	failed := `{"checks":[{"id":"waits-writable","title":"Waits for writability","passed":false,"status":"failed"},` +
		`{"id":"no-leak","title":"No leak","passed":false,"status":"not-reached"},{"id":"real","title":"Reported connection is real","passed":true,"status":"passed"}],` +
		// The same lint in two runs counts once for the student.
		`"runs":[{"findings":[{"Code":2},{"Code":1}]},{"findings":[{"Code":2}]}]}`
	store("bob@example.edu", 10*time.Minute, 4, failed)
	store("bob@example.edu", 30*time.Minute, 10, `{"checks":[{"id":"waits-writable","title":"Waits for writability","passed":true,"status":"passed"}]}`)
	store("carol@example.edu", 20*time.Minute, 3, failed)
	carolLatest := store("carol@example.edu", 40*time.Minute, 3, failed)

	resp, page := ada.get("/assignments/" + a + "/dashboard")
	wantStatus(t, "the dashboard", resp, http.StatusOK)
	i := strings.Index(page, `data-testid="dash-connect"`)
	if i < 0 {
		t.Fatalf("the dashboard has no connect section:\n%s", page)
	}
	sec := page[i:]
	sec = sec[:strings.Index(sec, "</section>")]
	for _, want := range []string{
		`<span data-testid="submitted">2</span> of 3 students`,
		`<span data-testid="passed">1</span> have a full score`,
		`<span data-testid="first-pass">30m0s</span>`,
		`<td>Waits for writability</td><td>1</td><td><a href="/runs/` + carolLatest + `">`, // Carol's latest only: Bob's latest passes
		`<td>a ready callback waited behind a long one (head-of-line)</td><td>1</td><td><a href="/runs/` + carolLatest + `">`,
		`<td>a callback held the loop too long (long-handler)</td><td>1</td>`,
		`<td>30–40%</td><td class="bar"><span style="width:100%;"></span></td><td>1</td>`,  // Carol's best
		`<td>90–100%</td><td class="bar"><span style="width:100%;"></span></td><td>1</td>`, // Bob's
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("the connect section lacks %q:\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "No leak") {
		t.Errorf("a check that was not reached is counted as failing")
	}
	if resp, _ := bob.get("/assignments/" + a + "/dashboard"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a student opens the dashboard = %d, want 404", resp.StatusCode)
	}
}

func mustParis(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
