package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/internal/flock"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/postgres"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/queue"
	"github.com/asynclab/asynclab/web"
)

// stores are where lab serve keeps its runs and its queue: SQLite files
// in the data directory, owned by this one server, or a PostgreSQL
// database that several may share.
type stores struct {
	store  prunableStore
	queue  workQueue
	shared bool // other processes may work the same queue
	close  func()
}

type prunableStore interface {
	labs.Store
	labs.RunPruner
}

// workQueue is a queue on either database, as lab serve uses it.
type workQueue interface {
	web.Queue
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Reclaim(ctx context.Context) (int, error)
}

// isPostgres reports whether db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStores opens the store and queue db names ("" for SQLite files in
// dataDir, or a postgres:// URL), the queue with cfg.
func openStores(ctx context.Context, db, dataDir string, cfg queue.Config) (*stores, error) {
	if isPostgres(db) {
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		q, err := queue.OpenPostgres(ctx, st.Pool(), cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		return &stores{store: st, queue: q, shared: true, close: func() { st.Close() }}, nil
	}
	if db != "" {
		return nil, fmt.Errorf("--db %q: want a postgres:// URL, or nothing for SQLite in the data directory", db)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "lab.db"))
	if err != nil {
		return nil, err
	}
	q, qdb, err := queue.OpenSQLite(ctx, filepath.Join(dataDir, "queue.db"), cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &stores{store: st, queue: q, close: func() { qdb.Close(); st.Close() }}, nil
}

// claimDataDir makes dir and takes its lock, after removing the sandboxes
// a killed process left: one process per data directory, since two would
// both grade every run in line and contradict each other about it. The
// error names the process that holds it.
func claimDataDir(m *Main, dir string) (*flock.Lock, error) {
	if n, err := sandbox.Cleanup(); err != nil {
		m.Logger.Warn("removing sandboxes of an earlier process", "err", err)
	} else if n > 0 {
		m.Logger.Info("removed sandboxes left by an earlier process", "count", n)
	}
	// Only the server reads what students submitted.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := flock.Acquire(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, fmt.Errorf("the data directory %s is in use: %w", dir, err)
	}
	return lock, nil
}

// gradingQueue is the queue's configuration for a process whose *srv
// grades the runs. The queue works only once started, after srv is set.
func gradingQueue(srv **web.Server, workers map[queue.Lane]int, t queueTiming, log *slog.Logger) queue.Config {
	return queue.Config{
		Work:        func(ctx context.Context, job queue.Job) error { return (*srv).Work(ctx, job) },
		GiveUp:      func(ctx context.Context, job queue.Job, reason string) error { return (*srv).GiveUp(ctx, job, reason) },
		Workers:     workers,
		JobTimeout:  t.jobTimeout,
		RescueAfter: t.rescueAfter,
		Logger:      log,
	}
}

// queueTiming is how long one try at grading a run may take, and how
// long a try may go on before it is taken for lost (its process died)
// and the run tried again: flags of lab serve and lab worker.
type queueTiming struct{ jobTimeout, rescueAfter time.Duration }

func (t *queueTiming) flags(fs *flag.FlagSet) {
	fs.DurationVar(&t.jobTimeout, "job-timeout", 5*time.Minute, "how long one try at grading a run may take")
	fs.DurationVar(&t.rescueAfter, "rescue-after", 0, "on PostgreSQL, how long a try may go on before it is taken for lost (its process died) and the run is tried again; default job-timeout + 1m; give every process on one database the same")
}

func (t *queueTiming) check() error {
	if t.jobTimeout <= 0 || t.rescueAfter < 0 || t.rescueAfter > 0 && t.rescueAfter <= t.jobTimeout {
		return fmt.Errorf("%w: --rescue-after must be longer than --job-timeout (%s), or a try still going would be taken for lost", errUsage, t.jobTimeout)
	}
	return nil
}

// drain stops q from taking runs and lets those being graded finish
// within d; those still running then are cut short and stay in line.
func drain(ctx context.Context, m *Main, q workQueue, d time.Duration) {
	fmt.Fprintf(m.Stderr, "stopping: letting the runs being graded finish (at most %s)\n", d)
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	if err := q.Stop(stop); err != nil {
		m.Logger.Warn("stopping the queue", "err", err)
	}
}
