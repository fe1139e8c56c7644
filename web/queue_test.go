package web

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/asynclab/asynclab/queue"
)

// StartTestQueue opens a real SQLite queue at path ("" for a new file in
// a temporary directory) whose workers grade with the server srv returns,
// reclaims what a stopped server left running, and starts it; it stops
// when the test ends or stop is called. The server is asked for when a job
// is worked, so the queue may be made before the server that uses it.
func StartTestQueue(t testing.TB, path string, srv func() *Server, workers map[queue.Lane]int) (q *queue.Queue[*sql.Tx], stop func()) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "queue.db")
	}
	if workers == nil {
		workers = map[queue.Lane]int{queue.Practice: 2, queue.Submission: 2}
	}
	ctx := context.Background()
	var db *sql.DB
	var err error
	q, db, err = queue.OpenSQLite(ctx, path, queue.Config{
		Work: func(ctx context.Context, job queue.Job) error {
			if s := srv(); s != nil {
				return s.Work(ctx, job)
			}
			return errors.New("no server yet")
		},
		GiveUp: func(ctx context.Context, job queue.Job, reason string) error {
			if s := srv(); s != nil {
				return s.GiveUp(ctx, job, reason)
			}
			return errors.New("no server yet")
		},
		Workers:      workers,
		PollInterval: 100 * time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q.Stop(sctx); err != nil {
				t.Errorf("stop the queue: %v", err)
			}
			db.Close()
		})
	}
	t.Cleanup(stop)
	return q, stop
}
