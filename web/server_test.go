package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/web"
)

// fakeGrader plays a grading through the observer with a small real trace.
// These tests check what the server does around grading: the API, the
// stream, the store. Grading itself runs for real in package grading and
// in this package's browser tests.
type fakeGrader struct {
	calls atomic.Int32
	block chan struct{} // if set, grading waits for it to close
	// failing, when set, is how many of its two checks every grading
	// fails from now on: an exercise that changed. Until then every
	// grading passes its one check, 1/1.
	failing atomic.Int32
}

func smallTrace() *trace.Trace {
	return &trace.Trace{Version: trace.Version, Names: []string{"", "main", "read"}, Events: []trace.Event{
		{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1},
		{Seq: 2, Time: 2000, Dur: 500, Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: 3},
		{Seq: 3, Time: 4000, Dur: 3000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1, Op: 1 << 60},
	}}
}

func (g *fakeGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	g.calls.Add(1)
	var phases []grading.Phase
	phase := func(name string) {
		p := grading.Phase{Name: name, At: time.Now()}
		phases = append(phases, p)
		sub.Observer.Phase(p)
	}
	o := sub.Observer
	for _, p := range []string{"building", "running"} {
		phase(p)
	}
	if g.block != nil {
		select {
		case <-g.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tr := smallTrace()
	track := grading.Track("listener", engine.Epoll)
	o.TrackStart(track, "listener", engine.Epoll)
	o.TraceBatch(track, trace.Batch{Names: tr.Names[1:], FirstName: 1, Events: tr.Events, End: true})
	sum := grading.RunSummary{Scenario: "listener", Backend: engine.Epoll, Track: track, Events: len(tr.Events)}
	o.TrackEnd(track, &exercises.Run{}, sum)
	phase("checking")
	phase("done")
	// The run's real answer to the prediction is its first choice, or 7.
	var pred *grading.Prediction
	if p := sub.Exercise.Predict; p != nil {
		actual := exercises.Num(7)
		if len(p.Choices) > 0 {
			actual = exercises.Answer{Choice: p.Choices[0]}
		}
		actual.Note = "the fake grader's"
		pred = &grading.Prediction{Question: p.Question, Form: p.Form, Actual: &actual, ActualText: p.Format(actual), Note: actual.Note}
		if sub.Predicted != nil {
			pred.Predicted, pred.PredictedText = sub.Predicted, p.Format(*sub.Predicted)
		}
	}
	if n := int(g.failing.Load()); n > 0 {
		checks := []grading.CheckResult{{ID: "c", Title: "a check", Points: 1, Max: 1, Passed: n < 2}, {ID: "d", Title: "a new check", Max: 1}}
		return &grading.Result{ID: sub.ID, Phases: phases, Exercise: sub.Exercise.Slug, Verdict: grading.Failed, Message: "a check failed",
			Score: 2 - n, Max: 2, Checks: checks, Runs: []grading.RunSummary{sum}, Prediction: pred}, nil
	}
	return &grading.Result{ID: sub.ID, Phases: phases, Exercise: sub.Exercise.Slug, Verdict: grading.Passed, Message: "every check passed", Score: 1, Max: 1,
		Checks: []grading.CheckResult{{ID: "c", Title: "a check", Points: 1, Max: 1, Passed: true}},
		Runs:   []grading.RunSummary{sum}, Prediction: pred}, nil
}

func (g *fakeGrader) Run(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	return g.Grade(ctx, sub)
}

type testServer struct {
	*httptest.Server
	srv       *web.Server
	stopQueue func()
	grader    *fakeGrader
	store     labs.Store
	client    *http.Client
}

func newServer(t *testing.T, ready func() error) *testServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newServerWith(t, store, &fakeGrader{}, ready)
}

func newServerWith(t *testing.T, store labs.Store, g *fakeGrader, ready func() error) *testServer {
	t.Helper()
	return newServerQueued(t, store, g, ready, "")
}

// newServerQueued is newServerWith on the queue database at qpath ("" for
// a new one).
func newServerQueued(t *testing.T, store labs.Store, g *fakeGrader, ready func() error, qpath string) *testServer {
	t.Helper()
	var s atomic.Pointer[web.Server]
	q, stop := web.StartTestQueue(t, qpath, s.Load, nil)
	srv := web.New(web.Config{Exercises: catalog.All(), Store: store, Queue: q, Grader: func() web.Grader { return g }, Ready: ready, RunsPerMinute: 5})
	s.Store(srv)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	jar, _ := cookiejar.New(nil)
	return &testServer{Server: ts, srv: srv, stopQueue: stop, grader: g, store: store, client: &http.Client{Jar: jar}}
}

func (ts *testServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := ts.client.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfAttr = regexp.MustCompile(`data-csrf="([0-9a-f]{32})"`)

// token loads the exercise page and returns its CSRF token.
func (ts *testServer) token(t *testing.T, slug string) string {
	t.Helper()
	_, page := ts.get(t, "/exercises/"+slug)
	m := csrfAttr.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("exercise page has no CSRF token")
	}
	return m[1]
}

// post sends body to the API with the CSRF token tok ("" sends none).
func (ts *testServer) post(t *testing.T, path, tok, contentType string, body []byte) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if tok != "" {
		req.Header.Set("X-CSRF-Token", tok)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (ts *testServer) start(t *testing.T, slug string, req map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(req)
	code, out := ts.post(t, "/api/exercises/"+slug+"/runs", ts.token(t, slug), "application/json", body)
	if code != http.StatusAccepted || out["id"] == "" {
		t.Fatalf("start run = %d %v", code, out)
	}
	return out["id"]
}

type message struct {
	Seq     int             `json:"seq"`
	Type    string          `json:"type"`
	Name    string          `json:"name"`
	Track   string          `json:"track"`
	Live    bool            `json:"live"`
	Events  [][]json.Number `json:"events"`
	Result  json.RawMessage `json:"result"`
	Message string          `json:"message"`
}

// follow reads a run's messages from after until the end.
func (ts *testServer) follow(t *testing.T, id string, after int) []message {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/runs/" + id + "?after=" + strconv.Itoa(after)
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", u, err, resp)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var msgs []message
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("after %d messages: %v", len(msgs), err)
			}
			return msgs
		}
		var m message
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("message %s: %v", b, err)
		}
		msgs = append(msgs, m)
	}
}

func types(msgs []message) string {
	var b []string
	for _, m := range msgs {
		b = append(b, m.Type)
	}
	return strings.Join(b, " ")
}

func TestPages(t *testing.T) {
	ts := newServer(t, nil)
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{`data-testid="catalogue"`, `data-testid="exercise-connect"`, "not submitted"}},
		{"/exercises/connect", 200, []string{`data-testid="instructions"`, `id="editor"`, `data-testid="predict"`, "EINPROGRESS",
			`data-testid="backend"`, `data-testid="scenario"`, `data-testid="timeline"`, "/static/editor.js"}},
		{"/exercises/nosuch", 404, []string{`data-testid="error"`, "no exercise"}},
		{"/runs/20261125-000000-00000000", 404, []string{`data-testid="error"`}},
		{"/runs/..%2Fetc", 404, []string{`data-testid="error"`}},
		{"/compare?a=x&b=y", 404, []string{`data-testid="error"`}},
		{"/nowhere", 404, []string{`data-testid="error"`}},
		{"/static/lab.js", 200, []string{"RunSocket"}},
		{"/static/editor.js", 200, []string{"AsyncLabEditor"}},
	}
	for _, tt := range tests {
		code, body := ts.get(t, tt.path)
		if code != tt.status {
			t.Errorf("GET %s = %d, want %d", tt.path, code, tt.status)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tt.path, w)
			}
		}
		if strings.Contains(body, `data-testid="refused"`) {
			t.Errorf("GET %s shows grading refused on a ready host", tt.path)
		}
	}
}

// A run is stored, streamed live in order, recorded with its trace, and
// replayed from the store by a server that never saw it live.
func TestRunIsStreamedRecordedAndReplayed(t *testing.T) {
	ts := newServer(t, nil)
	id := ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "submit"})
	msgs := ts.follow(t, id, 0)
	want := "hello phase phase phase track events findings track_end phase phase result end"
	if got := types(msgs); got != want {
		t.Fatalf("messages = %s\nwant       %s", got, want)
	}
	for i, m := range msgs {
		if m.Seq != i+1 {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
	if !msgs[0].Live || len(msgs[5].Events) != 3 || msgs[5].Track != "listener-epoll" {
		t.Errorf("hello live=%v, events %d on %q; want live, 3 on listener-epoll", msgs[0].Live, len(msgs[5].Events), msgs[5].Track)
	}
	if op := msgs[5].Events[2][6]; op.String() != "1152921504606846976" {
		t.Errorf("an op id over 2^53 = %s, want it exact", op)
	}
	run, err := ts.store.Run(context.Background(), id)
	if err != nil || run.Status != labs.StatusDone || run.Verdict != "passed" || run.Code != "package handler\n" {
		t.Fatalf("stored run = %+v, %v", run, err)
	}
	// Resume after the first five messages.
	if rest := ts.follow(t, id, 5); len(rest) != len(msgs)-5 || rest[0].Seq != 6 {
		t.Errorf("resume after 5 = %d messages from seq %d, want %d from 6", len(rest), rest[0].Seq, len(msgs)-5)
	}
	// A new server over the same store replays it from the recording.
	// The fake grader has no sandboxed runs, so no trace was recorded and
	// the replay has no events; the browser tests replay real ones.
	ts2 := newServerWith(t, ts.store, &fakeGrader{}, nil)
	replay := ts2.follow(t, id, 0)
	if got, want := types(replay), strings.Replace(want, " events", "", 1); got != want || replay[0].Live {
		t.Errorf("replay = %s (live %v)\nwant     %s", got, replay[0].Live, want)
	}
	if reset := ts2.follow(t, id, 4); reset[0].Type != "reset" || len(reset) != len(replay)+1 {
		t.Errorf("resume into a replay = %s, want a reset and the whole sequence", types(reset))
	}
	code, page := ts2.get(t, "/runs/"+id)
	if code != 200 || !strings.Contains(page, `data-page="replay"`) || !strings.Contains(page, "package handler") {
		t.Errorf("replay page = %d", code)
	}
	// This browser's best score is on the catalogue.
	if _, cat := ts.get(t, "/"); !strings.Contains(cat, `href="/runs/`+id+`">1/1`) {
		t.Errorf("catalogue does not show the best score")
	}
}

func TestExport(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()
	id := labs.NewRunID(time.Now())
	var buf bytes.Buffer
	if err := trace.Encode(&buf, smallTrace()); err != nil {
		t.Fatal(err)
	}
	run := &labs.Run{ID: id, Exercise: "connect", Mode: labs.ModeRun, Client: strings.Repeat("a", 32), Code: "x", Created: time.Now()}
	if err := ts.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.StartRun(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := labs.Outcome{Verdict: "ran", Result: []byte(`{}`), Finished: time.Now()}
	if err := ts.store.FinishRun(ctx, id, out, []labs.Trace{{Track: "listener-epoll", Data: buf.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	code, body := ts.get(t, "/runs/"+id+"/export/listener-epoll.json")
	if code != 200 {
		t.Fatalf("export = %d\n%s", code, body)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	var spans int
	for _, e := range doc.TraceEvents {
		if e["ph"] == "X" {
			spans++
		}
	}
	if spans != 2 {
		t.Errorf("export has %d complete slices, want 2 (the handler and the syscall)", spans)
	}
	// A run killed mid-stream leaves a trace without its end frame: the
	// export has what came before, as the replay does.
	var cutBuf bytes.Buffer
	enc, tr := trace.NewEncoder(&cutBuf), smallTrace()
	if err := errors.Join(enc.WriteHeader(), enc.WriteNames(1, tr.Names[1:]), enc.WriteEvents(tr.Events)); err != nil {
		t.Fatal(err)
	}
	cut := cutBuf.Bytes() // no end frame
	id2 := labs.NewRunID(time.Now())
	run2 := &labs.Run{ID: id2, Exercise: "connect", Mode: labs.ModeRun, Client: strings.Repeat("a", 32), Code: "x", Created: time.Now()}
	if err := ts.store.CreateRun(ctx, run2); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.StartRun(ctx, id2, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.FinishRun(ctx, id2, out, []labs.Trace{{Track: "listener-epoll", Data: cut}}); err != nil {
		t.Fatal(err)
	}
	if code, body := ts.get(t, "/runs/"+id2+"/export/listener-epoll.json"); code != 200 || !strings.Contains(body, `"ph":"X"`) {
		t.Errorf("export of a cut trace = %d\n%.300s\nwant its well-formed part", code, body)
	}
	// The whole run in one file: each track's loops are processes named
	// after the track.
	id3 := labs.NewRunID(time.Now())
	run3 := &labs.Run{ID: id3, Exercise: "connect", Mode: labs.ModeRun, Client: strings.Repeat("a", 32), Code: "x", Created: time.Now()}
	if err := ts.store.CreateRun(ctx, run3); err != nil {
		t.Fatal(err)
	}
	ts.store.StartRun(ctx, id3, time.Now())
	res, _ := json.Marshal(grading.Result{ID: id3, Exercise: "connect", Verdict: grading.Ran, Runs: []grading.RunSummary{
		{Scenario: "listener", Backend: engine.Epoll, Track: "listener-epoll"}, {Scenario: "listener", Backend: engine.Uring, Track: "listener-uring"}}})
	if err := ts.store.FinishRun(ctx, id3, labs.Outcome{Verdict: "ran", Result: res, Finished: time.Now()},
		[]labs.Trace{{Track: "listener-epoll", Data: buf.Bytes()}, {Track: "listener-uring", Data: buf.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	code, body = ts.get(t, "/runs/"+id3+"/export/run.json")
	doc.TraceEvents = nil
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
		t.Fatalf("the whole run's export = %d, %v\n%.300s", code, err, body)
	}
	spans = 0
	for _, e := range doc.TraceEvents {
		if e["ph"] == "X" {
			spans++
		}
	}
	if spans != 4 || !strings.Contains(body, `"listener on epoll: loop 0"`) || !strings.Contains(body, `"listener on io_uring: loop 0"`) {
		t.Errorf("the whole run's export has %d slices (want 4) and these processes:\n%.600s", spans, body)
	}
	if code, _ := ts.get(t, "/runs/"+id+"/export/run.json"); code != http.StatusNotFound {
		t.Errorf("the whole-run export of a run with no recorded tracks = %d, want 404", code)
	}
	for _, bad := range []string{"/runs/" + id + "/export/other-epoll.json", "/runs/" + id + "/export/listener-epoll", "/runs/..%2F..%2Fetc/export/x.json", "/runs/x/export/y.json"} {
		if code, _ := ts.get(t, bad); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, code)
		}
	}
}

func TestStartRunRejectsBadInput(t *testing.T) {
	ts := newServer(t, nil)
	tok := ts.token(t, "connect")
	body := func(v any) []byte { b, _ := json.Marshal(v); return b }
	ok := map[string]any{"code": "package handler\n", "mode": "run"}
	tests := []struct {
		name   string
		tok    string
		ctype  string
		body   []byte
		status int
	}{
		{"no CSRF token", "", "application/json", body(ok), 403},
		{"wrong CSRF token", strings.Repeat("0", 32), "application/json", body(ok), 403},
		{"not JSON", tok, "application/json", []byte("code=1"), 400},
		{"a form", tok, "application/x-www-form-urlencoded", []byte("code=1"), 400},
		{"unknown field", tok, "application/json", body(map[string]any{"code": "x", "mode": "run", "admin": true}), 400},
		{"empty code", tok, "application/json", body(map[string]any{"code": "  ", "mode": "run"}), 400},
		{"bad mode", tok, "application/json", body(map[string]any{"code": "x", "mode": "grade"}), 400},
		{"bad backend", tok, "application/json", body(map[string]any{"code": "x", "mode": "run", "backends": []string{"kqueue"}}), 400},
		{"bad scenario", tok, "application/json", body(map[string]any{"code": "x", "mode": "run", "scenario": "moon"}), 400},
		{"a submit limited to a backend", tok, "application/json", body(map[string]any{"code": "x", "mode": "submit", "backends": []string{"epoll"}}), 400},
		{"oversized", tok, "application/json", body(map[string]any{"code": strings.Repeat("x", web.MaxCode+8192), "mode": "run"}), 413},
		{"no such exercise", tok, "application/json", body(ok), 404},
	}
	for _, tt := range tests {
		path := "/api/exercises/connect/runs"
		if tt.name == "no such exercise" {
			path = "/api/exercises/nosuch/runs"
		}
		code, out := ts.post(t, path, tt.tok, tt.ctype, tt.body)
		if code != tt.status || out["error"] == "" {
			t.Errorf("%s: %d %v, want %d with an error message", tt.name, code, out, tt.status)
		}
	}
	if n := ts.grader.calls.Load(); n != 0 {
		t.Errorf("the grader ran %d times on bad input", n)
	}
	// RunsPerMinute is 5 here: the sixth run in a row is refused.
	for range 5 {
		ts.start(t, "connect", ok)
	}
	if code, _ := ts.post(t, "/api/exercises/connect/runs", tok, "application/json", body(ok)); code != http.StatusTooManyRequests {
		t.Errorf("run over the rate limit = %d, want 429", code)
	}
}

func TestRefusesToGradeWhenTheSandboxIsMissing(t *testing.T) {
	ts := newServer(t, func() error { return errors.New("user namespaces are disabled") })
	_, page := ts.get(t, "/exercises/connect")
	if !strings.Contains(page, `data-testid="refused"`) || !strings.Contains(page, "user namespaces are disabled") {
		t.Errorf("exercise page does not say why grading is off")
	}
	body, _ := json.Marshal(map[string]any{"code": "package handler\n", "mode": "run"})
	code, out := ts.post(t, "/api/exercises/connect/runs", ts.token(t, "connect"), "application/json", body)
	if code != http.StatusServiceUnavailable || !strings.Contains(out["error"], "user namespaces are disabled") {
		t.Errorf("run on an unready host = %d %v, want 503 with the reason", code, out)
	}
	if n := ts.grader.calls.Load(); n != 0 {
		t.Errorf("the grader ran %d times on an unready host; it must never run unconfined", n)
	}
}

// A server stopped mid-grading leaves the run unfinished in the store; the
// next server grades it again, so the student's submission is not lost.
func TestUnfinishedRunsAreResumed(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	qpath := filepath.Join(t.TempDir(), "queue.db")
	blocked := &fakeGrader{block: make(chan struct{})}
	ts := newServerQueued(t, store, blocked, nil, qpath)
	id := ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "submit"})
	// The grading is cut short, as by a restart.
	ts.srv.Close()
	ts.stopQueue()
	if run, err := store.Run(context.Background(), id); err != nil || run.Status.Finished() {
		t.Fatalf("after the stop the run is %+v, %v; want it unfinished", run, err)
	}
	ts2 := newServerQueued(t, store, &fakeGrader{}, nil, qpath)
	if n, err := ts2.srv.Resume(context.Background()); err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v; want 1 run", n, err)
	}
	msgs := ts2.follow(t, id, 0)
	if msgs[len(msgs)-2].Type != "result" {
		t.Fatalf("the resumed run streamed %s", types(msgs))
	}
	run, err := store.Run(context.Background(), id)
	if err != nil || run.Status != labs.StatusDone || run.Verdict != "passed" {
		t.Errorf("resumed run = %+v, %v; want done and passed", run, err)
	}
}

// A run being graded is not graded again by a Resume that finds it
// unfinished in the store.
func TestResumeSkipsRunsInProgress(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := &fakeGrader{block: make(chan struct{})}
	ts := newServerWith(t, store, g, nil)
	id := ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "run"})
	if _, err := ts.srv.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(g.block)
	if msgs := ts.follow(t, id, 0); msgs[len(msgs)-2].Type != "result" {
		t.Fatalf("the run streamed %s", types(msgs))
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("the run was graded %d times, want once", n)
	}
}

// TestReferenceRun: comparing with the reference grades the reference
// once, as a submission, so that the comparison shows what passing looks
// like; later comparisons reuse that run.
func TestReferenceRun(t *testing.T) {
	ts := newServer(t, nil)
	tok := ts.token(t, "connect")
	code, first := ts.post(t, "/api/exercises/connect/reference", tok, "application/json", []byte("{}"))
	if code != http.StatusAccepted || first["id"] == "" {
		t.Fatalf("the first comparison = %d %v, want a reference run started", code, first)
	}
	waitFinished(t, ts.store)
	run, err := ts.store.Run(context.Background(), first["id"])
	if err != nil || run.Mode != labs.ModeSubmit || run.Verdict != "passed" {
		t.Fatalf("the reference run = %+v, %v; want a graded submission that passed", run, err)
	}
	code, again := ts.post(t, "/api/exercises/connect/reference", tok, "application/json", []byte("{}"))
	if code != http.StatusOK || again["id"] != first["id"] {
		t.Errorf("the second comparison = %d %v, want the same run %s", code, again, first["id"])
	}
	if n := ts.grader.calls.Load(); n != 1 {
		t.Errorf("the reference was graded %d times, want once", n)
	}
}

// TestExercisePageListsImports: the student is told, before a compile
// error does, what a handler may import.
func TestExercisePageListsImports(t *testing.T) {
	ts := newServer(t, nil)
	code, page := ts.get(t, "/exercises/connect")
	if code != http.StatusOK {
		t.Fatalf("the exercise page = %d", code)
	}
	for _, want := range []string{`data-testid="imports"`, "github.com/asynclab/asynclab/engine/sys", "math/rand/v2", "container/heap"} {
		if !strings.Contains(page, want) {
			t.Errorf("the exercise page lacks %q", want)
		}
	}
}
