// Package sqlite is the [labs.Store] on one SQLite file, through the pure Go
// driver modernc.org/sqlite, in WAL mode.
//
// Writes go through a pool of one connection, each in a BEGIN IMMEDIATE
// transaction, so writers in this process queue in Go instead of meeting
// SQLITE_BUSY; busy_timeout covers another process on the same file. Reads
// go through a pool of their own and, under WAL, never wait for a writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	msqlite "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/asynclab/asynclab/labs"
)

// pragmas are set on every connection. busy_timeout comes first so that the
// others wait for a lock rather than fail. auto_vacuum=INCREMENTAL takes
// effect only on a new file, and only before journal_mode writes its
// header: it lets a prune give the pages it frees back to the filesystem.
// synchronous=NORMAL loses no commit when the process dies, only, perhaps,
// the last ones when the machine does; foreign_keys is off by default for
// historical reasons.
const pragmas = "_pragma=busy_timeout(" + busyTimeoutMS + ")" +
	"&_pragma=auto_vacuum(INCREMENTAL)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(1)"

// busyTimeoutMS is how long a statement waits for a lock another process
// holds, in milliseconds.
const busyTimeoutMS = "5000"

// Store is a [labs.Store] on a SQLite file. It is safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB // one connection, BEGIN IMMEDIATE: SQLite has one writer
	read  *sql.DB // query_only connections
}

var _ labs.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file when it is
// missing, and applies the migrations it lacks. It refuses a database that
// a newer binary has migrated further, with an error wrapping
// [ErrNewerSchema].
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{path: abs}
	// A new file is the server's alone (SQLite gives its WAL and shared
	// memory files the same mode).
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	// A "file:" URI, so that SQLite decodes the escaped path and a '?' or
	// '#' in it is not taken for the query.
	name := "file:" + (&url.URL{Path: s.path}).EscapedPath() + "?" + pragmas
	var err error
	if s.write, err = sql.Open("sqlite", name+"&_txlock=immediate"); err != nil {
		return err
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)

	// The first connection turns a new file to WAL, which takes an
	// exclusive lock; SQLite does not wait for that lock when another
	// process holds the file (waiting could deadlock), so a new file that
	// two processes open at once is busy here for a moment.
	var mode string
	err = retryBusy(ctx, func() error {
		return s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	})
	if err != nil {
		return err
	}
	// journal_mode answers with the mode in effect, which stays "delete"
	// where WAL cannot work (some network filesystems).
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal", mode)
	}
	if err := migrate(ctx, s.write, time.Now()); err != nil {
		return err
	}

	if s.read, err = sql.Open("sqlite", name+"&_query_only=1"); err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	return s.read.PingContext(ctx)
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. The last connection to go checkpoints the WAL
// into the file.
func (s *Store) Close() error {
	var errs []error
	for _, db := range []*sql.DB{s.read, s.write} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// retryBusy calls fn until it does not fail with SQLITE_BUSY, for as long
// as busy_timeout would wait.
func retryBusy(ctx context.Context, fn func() error) error {
	ms, _ := strconv.Atoi(busyTimeoutMS)
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for {
		err := fn()
		var e *msqlite.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// nanos is how a time is stored: unix nanoseconds, NULL when zero.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
