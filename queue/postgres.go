package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// migrateLock serialises OpenPostgres's migrations across processes that
// start at once; River's migrator takes no lock of its own.
const migrateLock = "asynclab queue migrate"

// OpenPostgres brings River's tables in pool's database up to date and
// makes a queue on it, which many processes may share: each enqueues, and
// each with Workers works. A worker that dies leaves its jobs running
// until River's rescuer, on whichever process leads, makes them available
// again after RescueAfter (Reclaim is for SQLite only). The pool stays the
// caller's: close it after stopping the queue.
func OpenPostgres(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Queue[pgx.Tx], error) {
	driver := riverpgxv5.New(pool)
	if err := migrateLocked(ctx, pool, func() error { return Migrate(ctx, driver) }); err != nil {
		return nil, err
	}
	return New(driver, cfg)
}

// migrateLocked runs migrate holding a session advisory lock on a
// connection of its own.
func migrateLocked(ctx context.Context, pool *pgxpool.Pool, migrate func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", migrateLock); err != nil {
		return fmt.Errorf("queue: migrate: lock: %w", err)
	}
	// Unlock even when ctx is done, so the pooled connection holds no lock.
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", migrateLock)
	return migrate()
}
