package sqlite

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/labstest"
)

func TestPruner(t *testing.T) {
	labstest.RunPrunerTests(t, func(t *testing.T) labstest.PrunerStore { return mustOpen(t, tempPath(t)) })
}

func TestBackuper(t *testing.T) {
	labstest.RunBackuperTests(t,
		func(t *testing.T) labstest.BackuperStore { return mustOpen(t, tempPath(t)) },
		func(t *testing.T, path string) labs.Store { return mustOpen(t, path) })
}

// finishBig stores a done run with one trace of size bytes.
func finishBig(t *testing.T, s *Store, id string, mode labs.RunMode, created time.Time, size int) {
	t.Helper()
	ctx := context.Background()
	r := &labs.Run{ID: id, Exercise: "connect", Mode: mode, Client: "c", Code: "code", Created: created}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, id, created); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte(id), size/len(id))
	out := labs.Outcome{Verdict: "passed", Finished: created.Add(time.Second)}
	if err := s.FinishRun(ctx, id, out, []labs.Trace{{Track: "a-epoll", Data: data}}); err != nil {
		t.Fatal(err)
	}
}

func walSize(t *testing.T, s *Store) int64 {
	t.Helper()
	u, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return u.WAL
}

// TestWALTruncatedAfterLargeWrite writes a trace far larger than the WAL may
// stay: once FinishRun returns, the -wal file is small again, and the data
// is all in the database file.
func TestWALTruncatedAfterLargeWrite(t *testing.T) {
	const size = 48 << 20
	path := tempPath(t)
	s := mustOpen(t, path)
	created := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	finishBig(t, s, "big", labs.ModeRun, created, size)
	if wal := walSize(t, s); wal > walTruncateBytes {
		t.Errorf("WAL after a %d MiB trace = %d bytes, want at most %d", size>>20, wal, walTruncateBytes)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() < size {
		t.Errorf("database file after a %d MiB trace = %v, %v; want it to hold the trace", size>>20, fi.Size(), err)
	}
	data, err := s.Trace(context.Background(), "big", "a-epoll")
	if err != nil || len(data) != size {
		t.Errorf("Trace(big) = %d bytes, %v; want %d", len(data), err, size)
	}

	// Small writes leave the WAL to SQLite's own checkpoints.
	for i := range 5 {
		finishBig(t, s, "small-"+string(rune('a'+i)), labs.ModeRun, created, 4<<10)
	}
	if wal := walSize(t, s); wal == 0 || wal > walTruncateBytes {
		t.Errorf("WAL after small writes = %d bytes, want some, at most %d", wal, walTruncateBytes)
	}
}

// TestPruneShrinksFiles prunes large practice runs: the WAL is truncated
// and, in a file this package created, the database file shrinks too.
func TestPruneShrinksFiles(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, tempPath(t))
	var av int
	if err := s.write.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&av); err != nil || av != 2 {
		t.Fatalf("PRAGMA auto_vacuum = %d, %v; want 2 (incremental)", av, err)
	}
	created := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"p1", "p2", "p3"} {
		finishBig(t, s, id, labs.ModeRun, created, 8<<20)
	}
	finishBig(t, s, "kept", labs.ModeSubmit, created, 1<<20)
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint() = %v", err)
	}
	before, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneRuns(ctx, created.Add(time.Hour))
	if err != nil || n.Runs != 3 || n.Bytes < 24<<20 {
		t.Fatalf("PruneRuns = %+v, %v; want 3 runs, at least 24 MiB", n, err)
	}
	after, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("database %d -> %d bytes, WAL %d -> %d bytes", before.DB, after.DB, before.WAL, after.WAL)
	if after.WAL != 0 {
		t.Errorf("WAL after a prune = %d bytes, want 0", after.WAL)
	}
	if after.DB > before.DB-20<<20 || after.DB < 1<<20 {
		t.Errorf("database after pruning 24 MiB of %d bytes = %d bytes, want about 1 MiB left", before.DB, after.DB)
	}
}

// TestCheckpointWaitsForReaders: a reader holding an old snapshot keeps a
// checkpoint from truncating the WAL, which is an error, not a hang; once
// it ends, the WAL truncates.
func TestCheckpointWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, tempPath(t))
	created := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	finishBig(t, s, "first", labs.ModeRun, created, 1<<10)
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	finishBig(t, s, "second", labs.ModeRun, created, 1<<10)
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Checkpoint(short); err == nil {
		t.Errorf("Checkpoint() with a reader on an old snapshot = nil, want an error")
	}
	tx.Rollback()
	if err := s.Checkpoint(ctx); err != nil {
		t.Errorf("Checkpoint() once the reader is done = %v", err)
	}
	if wal := walSize(t, s); wal != 0 {
		t.Errorf("WAL after Checkpoint() = %d bytes, want 0", wal)
	}
}
