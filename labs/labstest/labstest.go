// Package labstest is the contract every [labs.Store] passes. Each
// implementation's tests call [RunStoreTests] with a fresh store.
package labstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/asynclab/asynclab/labs"
)

// RunStoreTests runs the contract against stores from open, which returns a
// new, empty store and closes it when the test ends.
func RunStoreTests(t *testing.T, open func(t *testing.T) labs.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, func(*testing.T) labs.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"CreateRunErrors", testCreateRunErrors},
		{"NotFound", testNotFound},
		{"Transitions", testTransitions},
		{"InterruptRun", testInterruptRun},
		{"FinishRunAtomic", testFinishRunAtomic},
		{"Traces", testTraces},
		{"ClientRuns", testClientRuns},
		{"BestScores", testBestScores},
		{"Unfinished", testUnfinished},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// t0 is a time with nanoseconds, away from UTC, to see both survive.
var t0 = time.Date(2026, 11, 25, 22, 51, 17, 123456789, time.FixedZone("CET", 3600))

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// newRun returns a queued run created n seconds after t0.
func newRun(id, client, exercise string, mode labs.RunMode, n int) *labs.Run {
	return &labs.Run{
		ID: id, Exercise: exercise, Mode: mode, Client: client,
		Code:     "package handler\n\nfunc Handle() {}\n",
		Backends: []string{"epoll", "uring"},
		Created:  at(n),
	}
}

// equateRuns compares runs as a store returns them: times by instant (go-cmp
// uses time.Time.Equal), empty lists and bytes as nil.
var equateRuns = cmpopts.EquateEmpty()

func mustCreate(t *testing.T, s labs.Store, r *labs.Run) {
	t.Helper()
	if err := s.CreateRun(context.Background(), r); err != nil {
		t.Fatalf("CreateRun(%s) = %v", r.ID, err)
	}
}

func mustStart(t *testing.T, s labs.Store, id string, n int) {
	t.Helper()
	if err := s.StartRun(context.Background(), id, at(n)); err != nil {
		t.Fatalf("StartRun(%s) = %v", id, err)
	}
}

func mustFinish(t *testing.T, s labs.Store, id string, out labs.Outcome, traces ...labs.Trace) {
	t.Helper()
	if err := s.FinishRun(context.Background(), id, out, traces); err != nil {
		t.Fatalf("FinishRun(%s) = %v", id, err)
	}
}

func mustRun(t *testing.T, s labs.Store, id string) *labs.Run {
	t.Helper()
	r, err := s.Run(context.Background(), id)
	if err != nil {
		t.Fatalf("Run(%s) = %v", id, err)
	}
	return r
}

// submit creates, starts and finishes a run with score.
func submit(t *testing.T, s labs.Store, r *labs.Run, score int) {
	t.Helper()
	mustCreate(t, s, r)
	mustStart(t, s, r.ID, 100)
	mustFinish(t, s, r.ID, labs.Outcome{Verdict: "failed", Score: score, Max: 10, Finished: at(200)})
}

func testRoundTrip(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  labs.Run
		out  labs.Outcome
	}{
		{
			name: "every field",
			run: labs.Run{
				ID: "20261125-225117-1a2b3c4d", Exercise: "connect", Mode: labs.ModeSubmit,
				Client: "0123456789abcdef0123456789abcdef", Code: "package handler\n// ünïcode, 'quotes', \"and\" \x00 nul\n",
				Backends: []string{"epoll", "uring"}, Scenarios: []string{"late-accept", "closed-port", "full-backlog"},
				Prediction: `{"number":140}`, Created: t0,
			},
			out: labs.Outcome{Verdict: "passed", Score: 7, Max: 10, Result: []byte(`{"verdict":"passed","checks":[]}`),
				Actual: `{"number":143.5,"note":"the 10 ms request waited 143.5 ms"}`, Finished: at(9)},
		},
		{
			name: "empty lists and code",
			run:  labs.Run{ID: "r2", Exercise: "deadlock", Mode: labs.ModeRun, Client: "c", Created: t0},
			out:  labs.Outcome{Verdict: "compile-error", Max: 10, Finished: at(9)},
		},
		{
			name: "binary result",
			run:  labs.Run{ID: "r3", Exercise: "batching", Mode: labs.ModeRun, Client: "c", Backends: []string{"uring"}, Created: t0},
			out:  labs.Outcome{Verdict: "failed", Score: 0, Max: 3, Result: []byte{0, 1, 2, 0xff, 0xfe, 0}, Finished: at(9)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			r := tt.run
			r.Verdict, r.Score, r.Result = "ignored", 99, []byte("ignored") // not stored by CreateRun
			if err := s.CreateRun(ctx, &r); err != nil {
				t.Fatalf("CreateRun = %v", err)
			}
			if r.Status != labs.StatusQueued {
				t.Errorf("CreateRun set Status = %q, want %q", r.Status, labs.StatusQueued)
			}
			want := tt.run
			want.Status = labs.StatusQueued
			if diff := cmp.Diff(&want, mustRun(t, s, r.ID), equateRuns); diff != "" {
				t.Errorf("Run after CreateRun (-want +got):\n%s", diff)
			}

			checkStatus := func(want labs.RunStatus) {
				t.Helper()
				if st, err := s.RunStatus(ctx, r.ID); err != nil || st != want {
					t.Errorf("RunStatus = %q, %v; want %q", st, err, want)
				}
			}
			checkStatus(labs.StatusQueued)
			mustStart(t, s, r.ID, 1)
			checkStatus(labs.StatusRunning)
			want.Status, want.Started = labs.StatusRunning, at(1)
			if diff := cmp.Diff(&want, mustRun(t, s, r.ID), equateRuns); diff != "" {
				t.Errorf("Run after StartRun (-want +got):\n%s", diff)
			}

			mustFinish(t, s, r.ID, tt.out)
			checkStatus(labs.StatusDone)
			want.Status, want.Verdict, want.Score, want.Max, want.Result, want.Actual, want.Finished =
				labs.StatusDone, tt.out.Verdict, tt.out.Score, tt.out.Max, tt.out.Result, tt.out.Actual, tt.out.Finished
			got := mustRun(t, s, r.ID)
			if diff := cmp.Diff(&want, got, equateRuns); diff != "" {
				t.Errorf("Run after FinishRun (-want +got):\n%s", diff)
			}
			for name, tm := range map[string]time.Time{"Created": got.Created, "Started": got.Started, "Finished": got.Finished} {
				if tm.Location() != time.UTC {
					t.Errorf("Run(%s).%s location = %v, want UTC", r.ID, name, tm.Location())
				}
			}
			if got.Created.Nanosecond() != t0.Nanosecond() {
				t.Errorf("Run(%s).Created nanoseconds = %d, want %d", r.ID, got.Created.Nanosecond(), t0.Nanosecond())
			}
		})
	}
}

func testCreateRunErrors(t *testing.T, open func(*testing.T) labs.Store) {
	s := open(t)
	mustCreate(t, s, newRun("taken", "c", "connect", labs.ModeRun, 0))
	tests := []struct {
		name string
		edit func(*labs.Run)
		want error
	}{
		{"id taken", func(r *labs.Run) { r.ID = "taken" }, labs.ErrConflict},
		{"empty id", func(r *labs.Run) { r.ID = "" }, labs.ErrInvalid},
		{"empty exercise", func(r *labs.Run) { r.Exercise = "" }, labs.ErrInvalid},
		{"unknown mode", func(r *labs.Run) { r.Mode = "grade" }, labs.ErrInvalid},
		{"zero created", func(r *labs.Run) { r.Created = time.Time{} }, labs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun("new", "c", "connect", labs.ModeSubmit, 1)
			tt.edit(r)
			if err := s.CreateRun(context.Background(), r); !errors.Is(err, tt.want) {
				t.Errorf("CreateRun(%s) = %v, want %v", r.ID, err, tt.want)
			}
		})
	}
	// The first run is untouched by the second try at its id.
	if got := mustRun(t, s, "taken"); got.Mode != labs.ModeRun || !got.Created.Equal(at(0)) {
		t.Errorf("Run(taken) = %+v, want the first run", got)
	}
}

func testNotFound(t *testing.T, open func(*testing.T) labs.Store) {
	s := open(t)
	ctx := context.Background()
	mustCreate(t, s, newRun("here", "c", "connect", labs.ModeRun, 0))
	tests := []struct {
		name string
		call func() error
	}{
		{"Run", func() error { _, err := s.Run(ctx, "absent"); return err }},
		{"RunStatus", func() error { _, err := s.RunStatus(ctx, "absent"); return err }},
		{"Traces", func() error { _, err := s.Traces(ctx, "absent"); return err }},
		{"Trace of an absent run", func() error { _, err := s.Trace(ctx, "absent", "a-epoll"); return err }},
		{"Trace of an absent track", func() error { _, err := s.Trace(ctx, "here", "a-epoll"); return err }},
		{"StartRun", func() error { return s.StartRun(ctx, "absent", at(1)) }},
		{"FinishRun", func() error {
			return s.FinishRun(ctx, "absent", labs.Outcome{Verdict: "passed", Finished: at(1)}, nil)
		}},
		{"InterruptRun", func() error { return s.InterruptRun(ctx, "absent", "restart", at(1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, labs.ErrNotFound) {
				t.Errorf("%s = %v, want %v", tt.name, err, labs.ErrNotFound)
			}
		})
	}
}

func testTransitions(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	finish := func(s labs.Store, id string) error {
		return s.FinishRun(ctx, id, labs.Outcome{Verdict: "passed", Finished: at(5)}, nil)
	}
	start := func(s labs.Store, id string) error { return s.StartRun(ctx, id, at(5)) }
	interrupt := func(s labs.Store, id string) error { return s.InterruptRun(ctx, id, "stopped", at(5)) }
	tests := []struct {
		name       string
		from       []func(labs.Store, string) error // after CreateRun
		op         func(labs.Store, string) error
		want       error
		wantStatus labs.RunStatus
	}{
		{"start queued", nil, start, nil, labs.StatusRunning},
		{"start running again", []func(labs.Store, string) error{start}, start, nil, labs.StatusRunning},
		{"start done", []func(labs.Store, string) error{start, finish}, start, labs.ErrConflict, labs.StatusDone},
		{"start interrupted", []func(labs.Store, string) error{interrupt}, start, labs.ErrConflict, labs.StatusInterrupted},
		{"finish running", []func(labs.Store, string) error{start}, finish, nil, labs.StatusDone},
		{"finish queued", nil, finish, labs.ErrConflict, labs.StatusQueued},
		{"finish done", []func(labs.Store, string) error{start, finish}, finish, labs.ErrConflict, labs.StatusDone},
		{"finish interrupted", []func(labs.Store, string) error{start, interrupt}, finish, labs.ErrConflict, labs.StatusInterrupted},
		{"interrupt queued", nil, interrupt, nil, labs.StatusInterrupted},
		{"interrupt running", []func(labs.Store, string) error{start}, interrupt, nil, labs.StatusInterrupted},
		{"interrupt done", []func(labs.Store, string) error{start, finish}, interrupt, labs.ErrConflict, labs.StatusDone},
		{"interrupt interrupted", []func(labs.Store, string) error{interrupt}, interrupt, labs.ErrConflict, labs.StatusInterrupted},
	}
	s := open(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("run-%d", i)
			mustCreate(t, s, newRun(id, "c", "connect", labs.ModeSubmit, i))
			for _, f := range tt.from {
				if err := f(s, id); err != nil {
					t.Fatalf("setting up %s: %v", id, err)
				}
			}
			if err := tt.op(s, id); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			}
			if got := mustRun(t, s, id).Status; got != tt.wantStatus {
				t.Errorf("%s: Status = %q, want %q", tt.name, got, tt.wantStatus)
			}
		})
	}
	t.Run("start again moves Started", func(t *testing.T) {
		mustCreate(t, s, newRun("restarted", "c", "connect", labs.ModeSubmit, 0))
		mustStart(t, s, "restarted", 1)
		mustStart(t, s, "restarted", 7)
		if got := mustRun(t, s, "restarted").Started; !got.Equal(at(7)) {
			t.Errorf("Started = %v, want %v", got, at(7))
		}
	})
}

func testInterruptRun(t *testing.T, open func(*testing.T) labs.Store) {
	s := open(t)
	r := newRun("r", "c", "connect", labs.ModeSubmit, 0)
	mustCreate(t, s, r)
	mustStart(t, s, r.ID, 1)
	if err := s.InterruptRun(context.Background(), r.ID, "the server stopped", at(2)); err != nil {
		t.Fatalf("InterruptRun = %v", err)
	}
	want := *r
	want.Status, want.Verdict, want.Reason, want.Started, want.Finished =
		labs.StatusInterrupted, labs.VerdictInterrupted, "the server stopped", at(1), at(2)
	if diff := cmp.Diff(&want, mustRun(t, s, r.ID), equateRuns); diff != "" {
		t.Errorf("Run after InterruptRun (-want +got):\n%s", diff)
	}
}

func testFinishRunAtomic(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	s := open(t)
	r := newRun("r", "c", "connect", labs.ModeSubmit, 0)
	mustCreate(t, s, r)
	mustStart(t, s, r.ID, 1)
	before := mustRun(t, s, r.ID)

	// The second trace breaks the track's uniqueness after the run's row
	// and the first trace are written.
	out := labs.Outcome{Verdict: "passed", Score: 10, Max: 10, Result: []byte(`{}`), Finished: at(2)}
	dup := []labs.Trace{{Track: "a-epoll", Data: []byte("one")}, {Track: "a-epoll", Data: []byte("two")}}
	if err := s.FinishRun(ctx, r.ID, out, dup); err == nil {
		t.Fatalf("FinishRun with a repeated track = nil, want an error")
	}
	if diff := cmp.Diff(before, mustRun(t, s, r.ID), equateRuns); diff != "" {
		t.Errorf("Run after a failed FinishRun changed (-before +after):\n%s", diff)
	}
	if got, err := s.Traces(ctx, r.ID); err != nil || len(got) != 0 {
		t.Errorf("Traces after a failed FinishRun = %d traces, %v; want none", len(got), err)
	}

	// An empty track fails too, and so does nothing else.
	if err := s.FinishRun(ctx, r.ID, out, []labs.Trace{{Track: "a-epoll"}, {Track: ""}}); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("FinishRun with an empty track = %v, want %v", err, labs.ErrInvalid)
	}
	if got := mustRun(t, s, r.ID).Status; got != labs.StatusRunning {
		t.Errorf("Status after a failed FinishRun = %q, want %q", got, labs.StatusRunning)
	}

	// The run can still finish.
	mustFinish(t, s, r.ID, out, labs.Trace{Track: "a-epoll", Data: []byte("one")})
	if got := mustRun(t, s, r.ID).Status; got != labs.StatusDone {
		t.Errorf("Status after FinishRun = %q, want %q", got, labs.StatusDone)
	}
}

func testTraces(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	s := open(t)
	big := bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 300_000) // 1.5 MB, with NULs
	traces := []labs.Trace{
		{Track: "late-uring", Data: []byte("uring")},
		{Track: "closed-epoll", Data: big},
		{Track: "empty-epoll", Data: []byte{}},
		{Track: "late-epoll", Data: []byte("epoll")},
	}
	mustCreate(t, s, newRun("r", "c", "connect", labs.ModeRun, 0))
	mustCreate(t, s, newRun("none", "c", "connect", labs.ModeRun, 0))
	mustStart(t, s, "r", 1)
	mustFinish(t, s, "r", labs.Outcome{Verdict: "passed", Finished: at(2)}, traces...)

	got, err := s.Traces(ctx, "r")
	if err != nil {
		t.Fatalf("Traces(r) = %v", err)
	}
	want := []labs.Trace{traces[1], traces[2], traces[3], traces[0]}
	if diff := DiffTraces(want, got); diff != "" {
		t.Errorf("Traces(r) (-want +got):\n%s", diff)
	}
	for _, tr := range traces {
		data, err := s.Trace(ctx, "r", tr.Track)
		if err != nil || !bytes.Equal(data, tr.Data) {
			t.Errorf("Trace(r, %s) = %d bytes, %v; want %d bytes", tr.Track, len(data), err, len(tr.Data))
		}
	}
	if got, err := s.Traces(ctx, "none"); err != nil || len(got) != 0 {
		t.Errorf("Traces(none) = %d traces, %v; want none, nil", len(got), err)
	}
}

func testClientRuns(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	s := open(t)
	for _, r := range []*labs.Run{
		newRun("a1", "alice", "connect", labs.ModeRun, 1),
		newRun("a3", "alice", "connect", labs.ModeSubmit, 3),
		newRun("a2", "alice", "deadlock", labs.ModeRun, 2),
		newRun("a4", "alice", "connect", labs.ModeRun, 4),
		newRun("b1", "bob", "connect", labs.ModeRun, 5),
	} {
		mustCreate(t, s, r)
	}
	mustStart(t, s, "a3", 6)
	mustFinish(t, s, "a3", labs.Outcome{Verdict: "passed", Score: 3, Max: 3, Result: []byte(`{}`), Finished: at(7)})

	tests := []struct {
		client, exercise string
		limit            int
		want             []string
	}{
		{"alice", "connect", 0, []string{"a4", "a3", "a1"}},
		{"alice", "connect", 2, []string{"a4", "a3"}},
		{"alice", "", 0, []string{"a4", "a3", "a2", "a1"}},
		{"alice", "", 1, []string{"a4"}},
		{"alice", "batching", 0, nil},
		{"bob", "", 0, []string{"b1"}},
		{"carol", "", 0, nil},
	}
	for _, tt := range tests {
		runs, err := s.ClientRuns(ctx, tt.client, tt.exercise, tt.limit)
		if err != nil {
			t.Fatalf("ClientRuns(%s, %q, %d) = %v", tt.client, tt.exercise, tt.limit, err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, r.ID)
			if r.Code != "" || r.Result != nil {
				t.Errorf("ClientRuns(%s, %q, %d): run %s has Code or Result, want both left out", tt.client, tt.exercise, tt.limit, r.ID)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ClientRuns(%s, %q, %d) ids (-want +got):\n%s", tt.client, tt.exercise, tt.limit, diff)
		}
	}

	// The rest of a listed run is all there.
	runs, err := s.ClientRuns(ctx, "alice", "connect", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := mustRun(t, s, "a3")
	want.Code, want.Result = "", nil
	if diff := cmp.Diff(want, runs[1], equateRuns); diff != "" {
		t.Errorf("ClientRuns: a3 (-want +got):\n%s", diff)
	}
}

func testBestScores(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	s := open(t)
	submit(t, s, newRun("a-connect-5", "alice", "connect", labs.ModeSubmit, 1), 5)
	submit(t, s, newRun("a-connect-8", "alice", "connect", labs.ModeSubmit, 2), 8)
	submit(t, s, newRun("a-connect-8-later", "alice", "connect", labs.ModeSubmit, 3), 8)
	submit(t, s, newRun("a-connect-3", "alice", "connect", labs.ModeSubmit, 4), 3)
	submit(t, s, newRun("a-connect-run-10", "alice", "connect", labs.ModeRun, 5), 10) // a try: no points
	submit(t, s, newRun("a-deadlock-0", "alice", "deadlock", labs.ModeSubmit, 6), 0)
	submit(t, s, newRun("b-connect-10", "bob", "connect", labs.ModeSubmit, 7), 10)

	mustCreate(t, s, newRun("a-batching-queued", "alice", "batching", labs.ModeSubmit, 8))
	mustCreate(t, s, newRun("a-batching-interrupted", "alice", "batching", labs.ModeSubmit, 9))
	if err := s.InterruptRun(ctx, "a-batching-interrupted", "stopped", at(10)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		client string
		want   map[string]labs.Best
	}{
		{"alice", map[string]labs.Best{
			"connect":  {Exercise: "connect", Score: 8, Max: 10, RunID: "a-connect-8", At: at(2)},
			"deadlock": {Exercise: "deadlock", Score: 0, Max: 10, RunID: "a-deadlock-0", At: at(6)},
		}},
		{"bob", map[string]labs.Best{
			"connect": {Exercise: "connect", Score: 10, Max: 10, RunID: "b-connect-10", At: at(7)},
		}},
		{"carol", map[string]labs.Best{}},
	}
	for _, tt := range tests {
		got, err := s.BestScores(ctx, tt.client)
		if err != nil {
			t.Fatalf("BestScores(%s) = %v", tt.client, err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("BestScores(%s) (-want +got):\n%s", tt.client, diff)
		}
	}
}

func testUnfinished(t *testing.T, open func(*testing.T) labs.Store) {
	ctx := context.Background()
	s := open(t)
	if got, err := s.Unfinished(ctx); err != nil || len(got) != 0 {
		t.Errorf("Unfinished() of an empty store = %d runs, %v; want none", len(got), err)
	}
	mustCreate(t, s, newRun("running-3", "a", "connect", labs.ModeSubmit, 3))
	mustCreate(t, s, newRun("queued-4", "b", "connect", labs.ModeRun, 4))
	mustCreate(t, s, newRun("queued-1", "a", "deadlock", labs.ModeSubmit, 1))
	mustCreate(t, s, newRun("done-0", "a", "connect", labs.ModeSubmit, 0))
	mustCreate(t, s, newRun("interrupted-2", "a", "connect", labs.ModeSubmit, 2))
	mustStart(t, s, "running-3", 5)
	submit(t, s, newRun("done-5", "a", "connect", labs.ModeSubmit, 5), 1)
	mustStart(t, s, "done-0", 5)
	mustFinish(t, s, "done-0", labs.Outcome{Verdict: "passed", Finished: at(6)})
	if err := s.InterruptRun(ctx, "interrupted-2", "stopped", at(6)); err != nil {
		t.Fatal(err)
	}

	runs, err := s.Unfinished(ctx)
	if err != nil {
		t.Fatalf("Unfinished() = %v", err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]string{"queued-1", "running-3", "queued-4"}, got); diff != "" {
		t.Errorf("Unfinished() ids (-want +got):\n%s", diff)
	}
	// A resumed run needs its code.
	if diff := cmp.Diff(mustRun(t, s, "running-3"), runs[1], equateRuns); diff != "" {
		t.Errorf("Unfinished(): running-3 (-want +got):\n%s", diff)
	}
}

// DiffTraces returns a description of how got differs from want, or "".
// Unlike cmp.Diff, it stays quick on traces of megabytes.
func DiffTraces(want, got []labs.Trace) string {
	type summary struct {
		Track string
		Len   int
		Hash  [32]byte
	}
	sum := func(ts []labs.Trace) []summary {
		var out []summary
		for _, t := range ts {
			out = append(out, summary{t.Track, len(t.Data), sha256.Sum256(t.Data)})
		}
		return out
	}
	return cmp.Diff(sum(want), sum(got))
}

// testConcurrent has writers create and finish runs with 64 KiB traces while
// readers list them: no call may fail, for example with a busy database.
func testConcurrent(t *testing.T, open func(*testing.T) labs.Store) {
	const (
		writers = 8
		cycles  = 50
		size    = 64 << 10
	)
	ctx := context.Background()
	s := open(t)
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		errs    = make(chan error, writers+2)
		readers sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte(w)}, size)
			client := fmt.Sprintf("client-%d", w)
			for i := range cycles {
				id := fmt.Sprintf("w%d-%03d", w, i)
				r := newRun(id, client, "connect", labs.ModeSubmit, i)
				out := labs.Outcome{Verdict: "passed", Score: i % 10, Max: 10, Result: []byte(`{}`), Finished: at(i + 1)}
				err := s.CreateRun(ctx, r)
				if err == nil {
					err = s.StartRun(ctx, id, at(i))
				}
				if err == nil {
					err = s.FinishRun(ctx, id, out, []labs.Trace{{Track: "a-epoll", Data: data}, {Track: "a-uring", Data: data}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.ClientRuns(ctx, "client-0", "connect", 10); err != nil {
					errs <- err
					return
				}
				if _, err := s.BestScores(ctx, "client-1"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for w := range writers {
		runs, err := s.ClientRuns(ctx, fmt.Sprintf("client-%d", w), "", 0)
		if err != nil || len(runs) != cycles {
			t.Errorf("ClientRuns(client-%d) = %d runs, %v; want %d", w, len(runs), err, cycles)
		}
	}
	data, err := s.Trace(ctx, "w7-049", "a-uring")
	if err != nil || !bytes.Equal(data, bytes.Repeat([]byte{7}, size)) {
		t.Errorf("Trace(w7-049, a-uring) = %d bytes, %v; want %d bytes of 7", len(data), err, size)
	}
}
