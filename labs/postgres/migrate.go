package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNewerSchema means the database was migrated by a newer binary, to a
// schema this one does not know.
var ErrNewerSchema = errors.New("postgres: database schema is newer than this binary")

// migrationFiles are the schema's history, NNNN_name.sql, applied in the
// order of NNNN. A released migration is never edited, only followed.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // the file name
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		if len(ms) > 0 && v <= ms[len(ms)-1].version {
			return nil, fmt.Errorf("migration %s: version %d repeats or goes back", e.Name(), v)
		}
		b, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return ms, nil
}

// migrateLock is taken, for the length of a transaction, by whoever
// migrates, so that processes opening one new database at once apply each
// migration once. (Two CREATE TABLE IF NOT EXISTS at once may fail in
// PostgreSQL; a lock is what makes them wait.)
const migrateLock = "SELECT pg_advisory_xact_lock(hashtext('asynclab labs/postgres migrate'))"

// migrate applies, in order, each migration the database lacks, each in its
// own transaction together with its row in schema_migrations.
func migrate(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at bigint NOT NULL -- unix nanoseconds
		)`); err != nil {
			return err
		}
		return checkKnown(ctx, tx, ms)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, pool, m, now); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// checkKnown refuses a database with a migration this binary does not have:
// its schema is not the one this code was written for.
func checkKnown(ctx context.Context, tx pgx.Tx, ms []migration) error {
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.version] = true
	}
	latest := ms[len(ms)-1].version
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return err
	}
	for _, v := range versions {
		switch {
		case int(v) > latest:
			return fmt.Errorf("%w: it has version %d, this binary knows up to %d; run a newer lab", ErrNewerSchema, v, latest)
		case !known[int(v)]:
			return fmt.Errorf("applied version %d is not a migration of this binary", v)
		}
	}
	return nil
}

// apply applies m unless it is recorded, checked under the lock inside the
// transaction.
func apply(ctx context.Context, pool *pgxpool.Pool, m migration, now time.Time) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrateLock); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// No arguments: pgx sends it as a simple query, which may hold
		// several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, now.UnixNano())
		return err
	})
}
