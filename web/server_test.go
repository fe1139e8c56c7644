package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/web"
)

// countingGrader records that it was asked to grade. The web tests check
// what the server does around grading; grading itself is tested for real in
// package grading.
type countingGrader struct{ calls atomic.Int32 }

func (g *countingGrader) Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error) {
	g.calls.Add(1)
	return &grading.Result{Exercise: sub.Exercise.Slug, Verdict: grading.Passed, Message: "every check passed", Score: 1, Max: 1,
		Checks: []grading.CheckResult{{ID: "c", Title: "a check", Points: 1, Max: 1, Passed: true}}}, nil
}

const storedID, storedFile = "20261125-000000-abcdef01", "listener-epoll.trace"

// OpenTrace serves one stored run: a handler span and a syscall.
func (g *countingGrader) OpenTrace(id, file string) (io.ReadCloser, error) {
	if id != storedID || file != storedFile {
		return nil, fs.ErrNotExist
	}
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "main", "read"}, Events: []trace.Event{
		{Seq: 1, Time: 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1},
		{Seq: 2, Time: 2000, Dur: 500, Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: 3},
		{Seq: 3, Time: 4000, Dur: 3000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1},
	}}
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		return nil, err
	}
	return io.NopCloser(&buf), nil
}

func TestExport(t *testing.T) {
	ts, _, c := newServer(t, nil)
	code, body := get(t, c, ts.URL+"/runs/"+storedID+"/"+storedFile+".json")
	if code != 200 {
		t.Fatalf("export = %d\n%s", code, body)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	var slices int
	for _, e := range doc.TraceEvents {
		if e["ph"] == "X" {
			slices++
		}
	}
	if slices != 2 {
		t.Errorf("export has %d complete slices, want 2 (the handler and the syscall)", slices)
	}
	for _, bad := range []string{"/runs/" + storedID + "/other-epoll.trace.json", "/runs/..%2F..%2Fetc/passwd.json", "/runs/x/y.json"} {
		if code, _ := get(t, c, ts.URL+bad); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, code)
		}
	}
}

func newServer(t *testing.T, ready func() error) (*httptest.Server, *countingGrader, *http.Client) {
	t.Helper()
	g := &countingGrader{}
	s := web.New(web.Config{Exercises: catalog.All(), Grader: func() web.Grader { return g }, Ready: ready, RunsPerMinute: 3})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return ts, g, &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`)

// submit loads the exercise page (for its CSRF token) and posts code.
func submit(t *testing.T, c *http.Client, base, slug, code string, token *string) (int, string) {
	t.Helper()
	_, page := get(t, c, base+"/exercises/"+slug)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("exercise page has no CSRF field")
	}
	tok := m[1]
	if token != nil {
		tok = *token
	}
	resp, err := c.PostForm(base+"/exercises/"+slug+"/submit", url.Values{"code": {code}, "csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPages(t *testing.T) {
	ts, _, c := newServer(t, nil)
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{`data-testid="catalogue"`, `data-testid="exercise-connect"`}},
		{"/exercises/connect", 200, []string{`data-testid="instructions"`, `data-testid="editor"`, `data-testid="predict"`, "EINPROGRESS"}},
		{"/exercises/nosuch", 404, []string{`data-testid="error"`, "no exercise"}},
		{"/nowhere", 404, []string{`data-testid="error"`}},
	}
	for _, tt := range tests {
		code, body := get(t, c, ts.URL+tt.path)
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

func TestSubmit(t *testing.T) {
	ts, g, c := newServer(t, nil)
	code, body := submit(t, c, ts.URL, "connect", "package handler\n", nil)
	if code != 200 || !strings.Contains(body, `data-testid="verdict"`) || !strings.Contains(body, `data-testid="check-c"`) {
		t.Fatalf("submit = %d\n%s", code, body)
	}
	if g.calls.Load() != 1 {
		t.Errorf("grader called %d times, want 1", g.calls.Load())
	}
}

func TestRefusesToGradeWhenTheSandboxIsMissing(t *testing.T) {
	ts, g, c := newServer(t, func() error { return errors.New("user namespaces are disabled") })
	_, page := get(t, c, ts.URL+"/exercises/connect")
	if !strings.Contains(page, `data-testid="refused"`) || !strings.Contains(page, "user namespaces are disabled") {
		t.Errorf("exercise page does not say why grading is off")
	}
	code, body := submit(t, c, ts.URL, "connect", "package handler\n", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "user namespaces are disabled") {
		t.Errorf("submit on an unready host = %d, want 503 with the reason\n%s", code, body)
	}
	if n := g.calls.Load(); n != 0 {
		t.Errorf("the grader ran %d times on an unready host; it must never run unconfined", n)
	}
}

func TestBadInput(t *testing.T) {
	ts, g, c := newServer(t, nil)
	bad := strings.Repeat("0", 32)
	if code, _ := submit(t, c, ts.URL, "connect", "package handler\n", &bad); code != http.StatusForbidden {
		t.Errorf("submit with a wrong CSRF token = %d, want 403", code)
	}
	if code, _ := submit(t, c, ts.URL, "connect", strings.Repeat("x", web.MaxCode+10000), nil); code != http.StatusTooManyRequests && code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized submission = %d, want a limit error", code)
	}
	if code, _ := submit(t, c, ts.URL, "connect", "   ", nil); code != http.StatusBadRequest {
		t.Errorf("empty submission = %d, want 400", code)
	}
	// RunsPerMinute is 3 in this server; the fourth run in a row is refused.
	for i := 0; i < 3; i++ {
		submit(t, c, ts.URL, "connect", "package handler\n", nil)
	}
	if code, _ := submit(t, c, ts.URL, "connect", "package handler\n", nil); code != http.StatusTooManyRequests {
		t.Errorf("run over the rate limit = %d, want 429", code)
	}
	if g.calls.Load() > 3 {
		t.Errorf("grader ran %d times; the limit is 3 a minute", g.calls.Load())
	}
}
