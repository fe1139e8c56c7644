package queue

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// OpenSQLite opens (creating it if need be) the SQLite queue database at
// path, brings River's tables up to date and makes a queue on it. River
// shares one connection: SQLite takes one writer at a time, and River's
// own work (fetching, completing, maintenance) would otherwise fight
// itself for the lock. Close the returned database after stopping the
// queue.
func OpenSQLite(ctx context.Context, path string, cfg Config) (*Queue[*sql.Tx], *sql.DB, error) {
	name := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	if err := Migrate(ctx, driver); err != nil {
		db.Close()
		return nil, nil, err
	}
	q, err := New(driver, cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return q, db, nil
}
