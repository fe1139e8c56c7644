package labstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/labs"
)

// PrunerStore is a store that prunes practice runs.
type PrunerStore interface {
	labs.Store
	labs.RunPruner
}

// BackuperStore is a store that backs itself up.
type BackuperStore interface {
	labs.Store
	labs.Backuper
}

// RunPrunerTests runs the contract of [labs.RunPruner] against stores from
// open, which returns a new, empty store and closes it when the test ends.
func RunPrunerTests(t *testing.T, open func(t *testing.T) PrunerStore) {
	t.Run("KeepsWhatCounts", func(t *testing.T) { testPruneKeeps(t, open(t)) })
	t.Run("ManyBatches", func(t *testing.T) { testPruneMany(t, open(t)) })
	t.Run("ZeroTime", func(t *testing.T) {
		if _, err := open(t).PruneRuns(context.Background(), time.Time{}); !errors.Is(err, labs.ErrInvalid) {
			t.Errorf("PruneRuns(zero time) = %v, want %v", err, labs.ErrInvalid)
		}
	})
}

func testPruneKeeps(t *testing.T, s PrunerStore) {
	ctx := context.Background()
	trace := func(track string, n int) labs.Trace {
		return labs.Trace{Track: track, Data: bytes.Repeat([]byte{0xab}, n)}
	}
	result := []byte(`{"verdict":"passed"}`)
	done := func(id string, mode labs.RunMode, created int, traces ...labs.Trace) {
		mustCreate(t, s, newRun(id, "alice", "connect", mode, created))
		mustStart(t, s, id, created)
		mustFinish(t, s, id, labs.Outcome{Verdict: "passed", Score: 1, Max: 1, Result: result, Finished: at(created + 1)}, traces...)
	}
	// Pruned: finished practice runs created before at(10).
	done("old-run", labs.ModeRun, 1, trace("a-epoll", 1000), trace("a-uring", 2000))
	mustCreate(t, s, newRun("old-interrupted", "alice", "connect", labs.ModeRun, 2))
	if err := s.InterruptRun(ctx, "old-interrupted", "stopped", at(3)); err != nil {
		t.Fatal(err)
	}
	// Kept: submissions, unfinished runs, and runs not old enough.
	done("old-submit", labs.ModeSubmit, 1, trace("a-epoll", 500))
	mustCreate(t, s, newRun("old-queued", "alice", "connect", labs.ModeRun, 3))
	mustCreate(t, s, newRun("old-running", "alice", "connect", labs.ModeRun, 4))
	mustStart(t, s, "old-running", 5)
	done("at-cutoff", labs.ModeRun, 10, trace("a-epoll", 10))
	done("new-run", labs.ModeRun, 11, trace("a-epoll", 10))

	kept := []string{"old-submit", "old-queued", "old-running", "at-cutoff", "new-run"}
	before := map[string]*labs.Run{}
	for _, id := range kept {
		before[id] = mustRun(t, s, id)
	}
	code := len(newRun("", "", "", labs.ModeRun, 0).Code)
	want := labs.Pruned{Runs: 2, Traces: 2, Bytes: int64(2*code + len(result) + 1000 + 2000)}
	got, err := s.PruneRuns(ctx, at(10))
	if err != nil {
		t.Fatalf("PruneRuns(at(10)) = %v", err)
	}
	if got != want {
		t.Errorf("PruneRuns(at(10)) = %+v, want %+v", got, want)
	}
	for _, id := range []string{"old-run", "old-interrupted"} {
		if _, err := s.Run(ctx, id); !errors.Is(err, labs.ErrNotFound) {
			t.Errorf("Run(%s) after the prune = %v, want %v", id, err, labs.ErrNotFound)
		}
		if _, err := s.Trace(ctx, id, "a-epoll"); !errors.Is(err, labs.ErrNotFound) {
			t.Errorf("Trace(%s, a-epoll) after the prune = %v, want %v", id, err, labs.ErrNotFound)
		}
	}
	for _, id := range kept {
		if diff := cmp.Diff(before[id], mustRun(t, s, id), equateRuns); diff != "" {
			t.Errorf("Run(%s) changed by the prune (-before +after):\n%s", id, diff)
		}
	}
	if data, err := s.Trace(ctx, "old-submit", "a-epoll"); err != nil || len(data) != 500 {
		t.Errorf("Trace(old-submit, a-epoll) after the prune = %d bytes, %v; want 500", len(data), err)
	}
	if got, err := s.PruneRuns(ctx, at(10)); err != nil || got != (labs.Pruned{}) {
		t.Errorf("PruneRuns(at(10)) again = %+v, %v; want nothing pruned", got, err)
	}
}

// testPruneMany prunes more runs than one batch of any sensible size, while
// a writer goes on creating runs.
func testPruneMany(t *testing.T, s PrunerStore) {
	const n = 300
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("run-%03d", i)
		mustCreate(t, s, newRun(id, "alice", "connect", labs.ModeRun, i))
		mustStart(t, s, id, i)
		mustFinish(t, s, id, labs.Outcome{Verdict: "passed", Finished: at(i)}, labs.Trace{Track: "a-epoll", Data: []byte("trace")})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 50 {
			r := newRun(fmt.Sprintf("later-%03d", i), "bob", "connect", labs.ModeRun, n+i)
			if err := s.CreateRun(ctx, r); err != nil {
				t.Errorf("CreateRun(%s) during a prune = %v", r.ID, err)
			}
		}
	})
	got, err := s.PruneRuns(ctx, at(n))
	wg.Wait()
	if err != nil || got.Runs != n || got.Traces != n {
		t.Errorf("PruneRuns(at(%d)) = %+v, %v; want %d runs and traces", n, got, err, n)
	}
	if runs, err := s.ClientRuns(ctx, "alice", "", 0); err != nil || len(runs) != 0 {
		t.Errorf("ClientRuns(alice) after the prune = %d runs, %v; want none", len(runs), err)
	}
	if runs, err := s.ClientRuns(ctx, "bob", "", 0); err != nil || len(runs) != 50 {
		t.Errorf("ClientRuns(bob) after the prune = %d runs, %v; want 50", len(runs), err)
	}
}

// RunBackuperTests runs the contract of [labs.Backuper]: open returns a new,
// empty store, and reopen opens a backup file as a store. Both close the
// stores they return when the test ends.
func RunBackuperTests(t *testing.T, open func(t *testing.T) BackuperStore, reopen func(t *testing.T, path string) labs.Store) {
	ctx := context.Background()
	s := open(t)
	big := bytes.Repeat([]byte{1, 2, 3, 0}, 1<<18) // 1 MiB
	submit(t, s, newRun("submitted", "alice", "connect", labs.ModeSubmit, 1), 7)
	mustCreate(t, s, newRun("queued", "alice", "connect", labs.ModeRun, 2))
	mustCreate(t, s, newRun("traced", "bob", "connect", labs.ModeRun, 3))
	mustStart(t, s, "traced", 4)
	mustFinish(t, s, "traced", labs.Outcome{Verdict: "passed", Score: 3, Max: 3, Result: []byte(`{}`), Finished: at(5)},
		labs.Trace{Track: "a-epoll", Data: big}, labs.Trace{Track: "a-uring", Data: []byte("uring")})

	// Writers go on while the backup is made; it holds at least what was
	// there before it started.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.CreateRun(ctx, newRun(fmt.Sprintf("during-%d", i), "carol", "connect", labs.ModeRun, 10+i)); err != nil {
				t.Errorf("CreateRun during a backup = %v", err)
				return
			}
		}
	})
	path := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup(%s) = %v", path, err)
	}

	b := reopen(t, path)
	for _, id := range []string{"submitted", "queued", "traced"} {
		if diff := cmp.Diff(mustRun(t, s, id), mustRun(t, b, id), equateRuns); diff != "" {
			t.Errorf("Run(%s) in the backup (-store +backup):\n%s", id, diff)
		}
	}
	want, err := s.Traces(ctx, "traced")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Traces(ctx, "traced")
	if err != nil {
		t.Fatalf("Traces(traced) in the backup = %v", err)
	}
	if diff := DiffTraces(want, got); diff != "" {
		t.Errorf("Traces(traced) in the backup (-store +backup):\n%s", diff)
	}
	if best, err := b.BestScores(ctx, "alice"); err != nil || best["connect"].RunID != "submitted" {
		t.Errorf("BestScores(alice) in the backup = %+v, %v; want run submitted", best, err)
	}

	t.Run("ExistingFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "taken.db")
		if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Backup(ctx, path); !errors.Is(err, os.ErrExist) {
			t.Errorf("Backup(an existing file) = %v, want %v", err, os.ErrExist)
		}
		if data, _ := os.ReadFile(path); string(data) != "keep me" {
			t.Errorf("Backup(an existing file) changed it to %q", data)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("Backup(an existing file) left %d files beside it, want none", len(entries)-1)
		}
	})
}
