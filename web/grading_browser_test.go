package web

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/labs"
)

// The result page shows a check in each of its states, a passing check's
// note, and what a run printed, for handlers submitted through the page
// to the connect exercise.

const doNothingHandler = `package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect does nothing: it never connects and never answers.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
}
`

// panicOnLoopHandler prints a line, then panics in its callback on the
// loop: the engine recovers the panic and ends the run with an error
// naming it, so the process exits normally.
const panicOnLoopHandler = `package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect prints a line, then panics.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	fmt.Println("hello from the handler")
	panic("boom from the handler")
}
`

// crashHandler prints a line, then panics on a goroutine of its own,
// where nothing recovers it: the program crashes and Go writes the panic
// to stderr.
const crashHandler = `package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect prints a line, then crashes the program.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	fmt.Println("hello from the handler")
	go func() { panic("boom from the handler") }()
}
`

// pollingHandler learns how the handshake ended by calling connect again
// from a re-armed 5 ms timer: EALREADY while it runs, then 0 or EISCONN
// when connected, or the error. A timer of the given deadline stops it,
// closes the socket and reports ETIMEDOUT.
const pollingHandler = `package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const pollEvery = 5 * time.Millisecond

// Connect connects without blocking and polls connect until it is over.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	s := l.Sys()
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		done(-1, err)
		return
	}
	answered := false
	var poll, timer *engine.Timer
	finish := func(err error) {
		if answered {
			return
		}
		answered = true
		if poll != nil {
			poll.Stop()
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			s.Close(fd)
			done(-1, err)
			return
		}
		done(fd, nil)
	}

	switch err := s.Connect(fd, addr); err {
	case nil:
		finish(nil)
		return
	case sys.EINPROGRESS:
	default:
		finish(err)
		return
	}
	timer = l.AfterFunc("deadline", deadline, func() {
		timer = nil
		finish(sys.ETIMEDOUT)
	})
	var again func()
	again = func() {
		poll = nil
		if answered {
			return
		}
		switch err := s.Connect(fd, addr); err {
		case sys.EALREADY, sys.EINPROGRESS:
			poll = l.AfterFunc("connect again", pollEvery, again)
		case nil, sys.EISCONN:
			finish(nil)
		default:
			finish(err)
		}
	}
	poll = l.AfterFunc("connect again", pollEvery, again)
}
`

// checkRow is one row of the checks table as the page shows it.
type checkRow struct {
	ID     string `json:"id"`
	Status string `json:"status"` // data-status
	Label  string `json:"label"`  // the state's word in the first cell
	Text   string `json:"text"`
	Note   string `json:"note"` // the note's text, if the row has one
}

const readChecks = `Array.from(document.querySelectorAll('[data-testid="checks"] tr[data-testid^="check-"]')).map(tr => ({
	id: tr.dataset.testid.slice("check-".length),
	status: tr.dataset.status,
	label: tr.cells[0].textContent.trim(),
	text: Array.from(tr.cells).map(td => td.textContent.replace(/\s+/g, " ").trim()).join(" | "),
	note: (tr.querySelector('[data-testid^="note-"]') || {}).textContent || "",
}))`

// runRow is one row of the runs table: the track its export link names,
// the answer cell's text and what its output blocks hold ("" without one).
type runRow struct {
	Track  string `json:"track"`
	Answer string `json:"answer"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

const readRuns = `Array.from(document.querySelectorAll('[data-testid="runs"] tbody tr')).map(tr => {
	const track = tr.querySelector('[data-testid^="export-"]').dataset.testid.slice("export-".length);
	const out = (name) => { const d = tr.querySelector('details[data-testid="output-' + name + '-' + track + '"]'); return d ? d.querySelector("pre").textContent : ""; };
	return { track, answer: tr.cells[3].textContent, stdout: out("stdout"), stderr: out("stderr") };
})`

// submitted is what the page shows after a Submit.
type submitted struct {
	Verdict string // data-testid="verdict"
	Heading string // the verdict with its score
	Checks  map[string]checkRow
	Runs    []runRow
	ID      string // the run's id
}

// submit puts code in the editor, presses Submit, waits for the verdict
// and reads the result off the page.
func submit(t *testing.T, ctx context.Context, code string) submitted {
	t.Helper()
	setCode(t, ctx, []byte(code))
	start := time.Now()
	clickRun(t, ctx, `[data-testid="submit"]`)
	var s submitted
	js(t, ctx, `document.querySelector('[data-testid="verdict"]').textContent`, &s.Verdict)
	js(t, ctx, `document.querySelector('[data-testid="verdict"]').parentElement.textContent`, &s.Heading)
	js(t, ctx, `window.labLastResult.id`, &s.ID)
	var checks []checkRow
	js(t, ctx, readChecks, &checks)
	s.Checks = map[string]checkRow{}
	for _, c := range checks {
		s.Checks[c.ID] = c
	}
	js(t, ctx, readRuns, &s.Runs)
	t.Logf("graded in %v: %s; %d checks, %d runs", time.Since(start).Round(time.Millisecond), s.Heading, len(checks), len(s.Runs))
	return s
}

// describe lists the checks' rows, for a failure message.
func (s submitted) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", s.Heading)
	for _, c := range s.Checks {
		fmt.Fprintf(&b, "\n\t%s [%s] %s", c.ID, c.Status, abbreviate(c.Text, 300))
	}
	return b.String()
}

// A check in each of its four states, a passing check's note, and a run's
// output, as the result page shows them to a student who submits to the
// connect exercise.
func TestBrowserCheckStates(t *testing.T) {
	ts, store := gradingLab(t)
	ctx := newBrowser(t)
	ex := exercise(t, "connect")
	openExercise(t, ctx, ts.URL, ex.Slug)
	runs := len(ex.Scenarios) * len(ex.Backends)

	// 1. A handler that does nothing fails with 0 points, and the checks
	// that need an attempt are "not reached", none of them a pass.
	got := submit(t, ctx, doNothingHandler)
	screenshot(t, ctx, "check-states-does-nothing")
	if got.Verdict != "failed" || !strings.Contains(got.Heading, " 0/") {
		t.Errorf("a handler that does nothing: %q, want failed with a score of 0\n%s", got.Heading, got.describe())
	}
	for _, id := range []string{"never-blocked", "waits-writable", "deadline", "no-premature-use", "no-fd-leak", "real-connection"} {
		c, ok := got.Checks[id]
		switch {
		case !ok:
			t.Errorf("a handler that does nothing: the page has no row for check %s\n%s", id, got.describe())
		case c.Status != "not-reached" || c.Label != "not reached":
			t.Errorf("a handler that does nothing: check %s shows data-status=%q and %q, want not-reached and \"not reached\"", id, c.Status, c.Label)
		}
	}
	for id, c := range got.Checks {
		if c.Status == "passed" || strings.Contains(c.Label, "pass") {
			t.Errorf("a handler that does nothing: check %s shows %q (data-status=%q); it attempted nothing", id, c.Label, c.Status)
		}
	}

	// 2. A handler that prints, then panics in its callback on the loop:
	// the engine recovers the panic and ends each run with an error that
	// names it. Every run shows what the handler printed, the checks that
	// would rest on those runs are "not evaluated", and nothing passes.
	got = submit(t, ctx, panicOnLoopHandler)
	js(t, ctx, `document.querySelectorAll('details.output').forEach(d => d.open = true), true`, new(bool))
	screenshot(t, ctx, "check-states-panic-on-loop")
	if got.Verdict != "failed" || !strings.Contains(got.Heading, " 0/") {
		t.Errorf("a handler that panics on the loop: %q, want failed with a score of 0\n%s", got.Heading, got.describe())
	}
	if c := got.Checks["outcome"]; c.Status != "failed" || !strings.Contains(c.Text, "panicked: boom from the handler") {
		t.Errorf("a handler that panics on the loop: outcome shows data-status=%q: %s; want failed, naming the panic", c.Status, c.Text)
	}
	for _, id := range []string{"never-blocked", "waits-writable", "no-fd-leak"} {
		if c := got.Checks[id]; c.Status != "not-evaluated" || c.Label != "not evaluated" {
			t.Errorf("a handler that panics on the loop: check %s shows data-status=%q and %q, want not-evaluated and \"not evaluated\"", id, c.Status, c.Label)
		}
	}
	for id, c := range got.Checks {
		if c.Status == "passed" {
			t.Errorf("a handler that panics on the loop: check %s passes", id)
		}
	}
	if len(got.Runs) != runs {
		t.Errorf("a handler that panics on the loop: %d run rows, want %d", len(got.Runs), runs)
	}
	for _, r := range got.Runs {
		if !strings.Contains(r.Stdout, "hello from the handler") || !strings.Contains(r.Answer, "panicked: boom from the handler") {
			t.Errorf("a handler that panics on the loop: run %s shows stdout %q and %q; want the handler's line and the panic", r.Track, r.Stdout, abbreviate(r.Answer, 200))
		}
		// The loop recovered the panic; its stack still says where it was.
		if !strings.Contains(r.Stderr, "panic: boom from the handler") || !strings.Contains(r.Stderr, "handler.go:") {
			t.Errorf("a handler that panics on the loop: run %s shows stderr %q; want the panic and its stack, down to handler.go", r.Track, abbreviate(r.Stderr, 300))
		}
	}

	// 3. A handler that crashes the program (a panic on a goroutine of its
	// own, which nothing recovers): the verdict is runtime-error, and each
	// run shows the handler's line on stdout and Go's panic on stderr.
	got = submit(t, ctx, crashHandler)
	js(t, ctx, `document.querySelectorAll('details.output').forEach(d => d.open = true), true`, new(bool))
	screenshot(t, ctx, "check-states-crash")
	if got.Verdict != "runtime-error" {
		t.Errorf("a handler that crashes: %q, want runtime-error\n%s", got.Heading, got.describe())
	}
	for id, c := range got.Checks {
		if c.Status == "passed" {
			t.Errorf("a handler that crashes: check %s passes", id)
		}
	}
	if len(got.Runs) != runs {
		t.Errorf("a handler that crashes: %d run rows, want %d", len(got.Runs), runs)
	}
	for _, r := range got.Runs {
		if !strings.Contains(r.Stdout, "hello from the handler") || !strings.Contains(r.Stderr, "panic: boom from the handler") {
			t.Errorf("a handler that crashes: run %s shows stdout %q and stderr %q; want the handler's line and the panic",
				r.Track, r.Stdout, abbreviate(r.Stderr, 200))
		}
	}

	// 4. A handler that polls connect from a re-armed timer passes every
	// check, and waits-writable carries a note that this is polling.
	got = submit(t, ctx, pollingHandler)
	screenshot(t, ctx, "check-states-polling")
	if got.Verdict != "passed" {
		t.Errorf("a polling handler: %q, want passed\n%s", got.Heading, got.describe())
	}
	if len(got.Checks) != len(ex.Checks) {
		t.Errorf("a polling handler: %d check rows, want %d", len(got.Checks), len(ex.Checks))
	}
	for id, c := range got.Checks {
		if c.Status != "passed" || c.Label != "pass" {
			t.Errorf("a polling handler: check %s shows data-status=%q and %q: %s", id, c.Status, c.Label, c.Text)
		}
	}
	// The note is owed only if the handler really polled: a connect that
	// answered EALREADY, as the full queue's pending handshake makes it.
	if n := ealready(t, store, got.ID, "full-queue-epoll"); n == 0 {
		t.Errorf("a polling handler: no connect answered EALREADY on full-queue-epoll; the handler did not poll")
	}
	// waitsWritable passes a polling run with exercises.PassNote; the note
	// must survive exercises.EachRun, which combines the runs' outcomes.
	if n := got.Checks["waits-writable"].Note; !strings.Contains(n, "polling") {
		t.Errorf("a polling handler: waits-writable shows the note %q (data-testid=note-waits-writable), want one that says it is polling: %s",
			n, got.Checks["waits-writable"].Text)
	}
}

// ealready counts the connect calls that answered EALREADY in one stored
// track of run id.
func ealready(t *testing.T, store labs.Store, id, track string) int {
	t.Helper()
	traces, err := store.Traces(context.Background(), id)
	if err != nil {
		t.Fatalf("stored traces of %s: %v", id, err)
	}
	for _, tr := range traces {
		if tr.Track != track {
			continue
		}
		decoded, err := trace.Decode(bytes.NewReader(tr.Data), trace.DefaultLimits())
		if err != nil {
			t.Fatalf("decode %s: %v", track, err)
		}
		n := 0
		for _, e := range decoded.Events {
			if e.Kind == trace.KindSyscall && e.Phase != trace.PhaseBegin && decoded.Name(e.Name) == "connect" && e.Res == -int64(sys.EALREADY) {
				n++
			}
		}
		return n
	}
	t.Fatalf("run %s stored no track %s", id, track)
	return 0
}
