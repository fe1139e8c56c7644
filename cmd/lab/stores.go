package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

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
