// Package postgres is the [labs.Store] on a PostgreSQL database, through
// pgx (github.com/jackc/pgx/v5) and a pool of its connections: the store
// for a class that outgrows one machine, where many web nodes and workers
// share one database.
//
// It behaves as labs/sqlite does, as the labstest contract requires:
// times keep their nanoseconds (stored as unix nanoseconds, not timestamptz,
// which keeps microseconds), keys sort by bytes whatever the database's
// locale, and a handler's code may hold any bytes, NUL included. A trace
// is stored in chunks of at most 64 KiB, a row each.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/asynclab/asynclab/labs"
)

// Store is a [labs.Store] on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	name string // the database's name, for messages
}

var _ labs.Store = (*Store)(nil)

// Open connects to the database at url (postgres://... or key=value, as
// pgx takes it) and applies the migrations it lacks. It refuses a database
// that a newer binary has migrated further, with an error wrapping
// [ErrNewerSchema].
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error may quote the URL, password included: say only that.
		return nil, fmt.Errorf("postgres: open: the URL does not parse: %w", labs.ErrInvalid)
	}
	s := &Store{name: cfg.ConnConfig.Database}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", s.name, err)
	}
	if err := migrate(ctx, s.pool, time.Now()); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", s.name, err)
	}
	return s, nil
}

// Pool returns the store's connection pool, for what shares the database,
// such as the queue (queue.OpenPostgres). It stays the store's: it closes
// with the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool, waiting for the connections in use to be
// returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// kind gives a PostgreSQL error the labs error kind it is, where one
// applies: a value PostgreSQL refuses (text with a NUL or invalid UTF-8, a
// number out of range) is invalid, a key taken is a conflict.
func kind(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "22021", // character_not_in_repertoire: NUL, invalid UTF-8
		"22P05", // untranslatable_character
		"22003", // numeric_value_out_of_range
		"23514": // check_violation
		return fmt.Errorf("%w: %s", labs.ErrInvalid, pe.Message)
	case "23505": // unique_violation
		return fmt.Errorf("%w: %s", labs.ErrConflict, pe.Message)
	}
	return err
}

// nanos is how a time is stored: unix nanoseconds, NULL when zero.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}
