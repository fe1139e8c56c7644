package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/labs"
)

// dialWatch opens b's websocket of a course's watch session.
func dialWatch(t *testing.T, ts *testServer, b *browser, course string) (*websocket.Conn, int) {
	t.Helper()
	u, _ := url.Parse(ts.URL)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws"+course+"/watch", http.Header{"Cookie": {strings.Join(cookies, "; ")}})
	if err != nil {
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	return conn, http.StatusSwitchingProtocols
}

type watchMsg struct {
	Type, Run, By, Message, Track string
	N                             uint64
	Cursor                        float64
	Loop                          int
	Seq                           uint64
}

// next reads conn's next message, failing after 5 s.
func next(t *testing.T, conn *websocket.Conn) watchMsg {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m watchMsg
	if err := conn.ReadJSON(&m); err != nil {
		t.Fatalf("read the watch socket: %v", err)
	}
	return m
}

// TestWatchWithMe: a teacher shows one of their runs to a course; its
// students see it while the session lasts and follow each step over the
// course's socket, which takes steps from the presenter only; nobody
// outside the course sees any of it.
func TestWatchWithMe(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()
	ada := firstInstructor(t, ts)
	course := createCourse(t, ada, "Operating Systems")
	other := createCourse(t, ada, "Networks")
	_, page := ada.post(course+"/roster", url.Values{"csv": {"Bob,bob@example.edu,A\n"}})
	bob := usesLink(t, ts, issuedFor(t, page, "bob@example.edu"), "bob's password")
	_, page = ada.post(other+"/roster", url.Values{"csv": {"Frank,frank@example.edu,A\n"}})
	frank := usesLink(t, ts, issuedFor(t, page, "frank@example.edu"), "frank's password")
	courseID := strings.TrimPrefix(course, "/courses/")

	// A run of Ada's and one of Bob's.
	adaU, _ := ts.store.UserByEmail(ctx, "ada@example.edu")
	bobU, _ := ts.store.UserByEmail(ctx, "bob@example.edu")
	now := time.Now()
	mine, his := labs.NewRunID(now), labs.NewRunID(now.Add(time.Second))
	for id, client := range map[string]string{mine: adaU.ID, his: bobU.ID} {
		if err := ts.store.CreateRun(ctx, &labs.Run{ID: id, Exercise: "connect", Mode: labs.ModeRun, Client: client, Code: "package handler // " + client, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	watching := func(b *browser) []map[string]string {
		t.Helper()
		_, body := b.get("/api/watching")
		var out []map[string]string
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("/api/watching = %q: %v", body, err)
		}
		return out
	}

	wantStatus(t, "Bob opens Ada's run before the session", first2(bob.get("/runs/"+mine)), http.StatusNotFound)
	if _, page := bob.get(course + "/watch"); !strings.Contains(page, `data-testid="watch-none"`) {
		t.Errorf("the watch page before a session does not say nothing is shown")
	}
	if w := watching(bob); len(w) != 0 {
		t.Errorf("before a session Bob is told of %v", w)
	}
	if _, page := ada.get("/runs/" + mine); !strings.Contains(page, `data-testid="show-to"`) || !strings.Contains(page, ">Networks<") {
		t.Errorf("Ada's own run offers no way to show it to her courses")
	}
	if _, page := ada.get("/runs/" + his); strings.Contains(page, `data-testid="show-to"`) {
		t.Errorf("Bob's run offers Ada to show it to the class")
	}
	bobConn, code := dialWatch(t, ts, bob, course)
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("Bob opens his course's watch socket = %d", code)
	}
	if m := next(t, bobConn); m.Type != "ended" {
		t.Errorf("before a session the socket says %+v, want ended", m)
	}

	wantStatus(t, "Bob shows a run", first2(bob.post("/watch", url.Values{"course": {courseID}, "run": {his}})), http.StatusForbidden)
	wantStatus(t, "Ada shows Bob's run", first2(ada.post("/watch", url.Values{"course": {courseID}, "run": {his}})), http.StatusForbidden)
	resp, _ := ada.post("/watch", url.Values{"course": {courseID}, "run": {mine}})
	wantStatus(t, "Ada shows her run", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != course+"/watch" {
		t.Errorf("showing went to %q, want the course's watch page", loc)
	}
	if m := next(t, bobConn); m.Type != "watch" || m.Run != mine || m.By != "Ada" {
		t.Errorf("Bob's socket says %+v, want Ada's run", m)
	}
	if w := watching(bob); len(w) != 1 || w[0]["url"] != course+"/watch" || w[0]["by"] != "Ada" {
		t.Errorf("Bob is told of %v, want Ada's session in his course", w)
	}
	wantStatus(t, "Bob opens Ada's run while she shows it", first2(bob.get("/runs/"+mine)), http.StatusOK)
	if _, page := bob.get(course + "/watch"); !strings.Contains(page, `data-run="`+mine+`"`) || !strings.Contains(page, `data-testid="watch-follow"`) {
		t.Errorf("Bob's watch page does not show Ada's run to follow")
	}
	if _, page := ada.get(course + "/watch"); !strings.Contains(page, `data-testid="watch-end"`) {
		t.Errorf("Ada's watch page has no way to end the session")
	}
	// Frank is in another course of Ada's: none of it is his.
	wantStatus(t, "Frank opens Ada's run", first2(frank.get("/runs/"+mine)), http.StatusNotFound)
	wantStatus(t, "Frank opens the watch page", first2(frank.get(course+"/watch")), http.StatusNotFound)
	if _, code := dialWatch(t, ts, frank, course); code != http.StatusNotFound {
		t.Errorf("Frank opens the course's watch socket = %d, want 404", code)
	}
	if w := watching(frank); len(w) != 0 {
		t.Errorf("Frank is told of %v", w)
	}

	// Ada steps; Bob follows. Bob's own steps, a broken message and a
	// step in another run are refused and change nothing.
	adaConn, _ := dialWatch(t, ts, ada, course)
	next(t, adaConn)
	adaConn.WriteJSON(map[string]any{"type": "move", "run": mine, "cursor": 1234, "track": "listener-epoll", "loop": 0, "seq": 2})
	if m := next(t, bobConn); m.N != 1 || m.Cursor != 1234 || m.Track != "listener-epoll" || m.Seq != 2 {
		t.Errorf("after Ada's step Bob sees %+v", m)
	}
	next(t, adaConn) // her own step, echoed
	bobConn.WriteJSON(map[string]any{"type": "move", "run": mine, "cursor": 99})
	if m := next(t, bobConn); m.Type != "error" || !strings.Contains(m.Message, "only the presenter") {
		t.Errorf("Bob's step = %+v, want it refused", m)
	}
	adaConn.WriteMessage(websocket.TextMessage, []byte("{{ not json"))
	if m := next(t, adaConn); m.Type != "error" || !strings.Contains(m.Message, "not a move") {
		t.Errorf("a broken message = %+v, want it refused", m)
	}
	adaConn.WriteJSON(map[string]any{"type": "move", "run": his, "cursor": 5})
	if m := next(t, adaConn); m.Type != "error" || !strings.Contains(m.Message, "another run") {
		t.Errorf("a step in another run = %+v, want it refused", m)
	}
	adaConn.WriteJSON(map[string]any{"type": "move", "run": mine, "cursor": 2000})
	if m := next(t, bobConn); m.N != 2 || m.Cursor != 2000 {
		t.Errorf("after the refused messages Bob sees %+v, want Ada's second step", m)
	}

	wantStatus(t, "Bob ends the session", first2(bob.post(course+"/watch/end", nil)), http.StatusForbidden)
	wantStatus(t, "Ada ends the session", first2(ada.post(course+"/watch/end", nil)), http.StatusSeeOther)
	if m := next(t, bobConn); m.Type != "ended" {
		t.Errorf("after the end Bob's socket says %+v", m)
	}
	wantStatus(t, "Bob opens Ada's run after the session", first2(bob.get("/runs/"+mine)), http.StatusNotFound)
	if w := watching(bob); len(w) != 0 {
		t.Errorf("after the session Bob is told of %v", w)
	}
}
