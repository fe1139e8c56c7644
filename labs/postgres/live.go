package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

var _ labs.LiveRelay = (*Store)(nil)

// liveChannel is the NOTIFY channel of the live relay; the payload is the
// run's id.
const liveChannel = "lab_live"

// liveKeep is how long a relayed message is kept: far longer than a run
// may take (a job times out after minutes), after which a viewer is
// shown the run from its recording.
const liveKeep = time.Hour

// AppendLive stores msgs as run's messages first, first+1, ... of try
// attempt, and notifies the listeners, in one transaction. The first
// message of a try also sweeps messages older than liveKeep.
func (s *Store) AppendLive(ctx context.Context, run string, attempt, first int, msgs [][]byte) error {
	if len(msgs) == 0 {
		return nil
	}
	if attempt < 1 || first < 1 {
		return fmt.Errorf("postgres: relay %s: %w: attempt %d, first message %d", run, labs.ErrInvalid, attempt, first)
	}
	now := time.Now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		if first == 1 {
			b.Queue("DELETE FROM run_live WHERE at < $1", nanos(now.Add(-liveKeep)))
		}
		for i, m := range msgs {
			b.Queue(`INSERT INTO run_live (run_id, attempt, seq, data, at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT DO NOTHING`, run, attempt, first+i, m, nanos(now))
		}
		b.Queue("SELECT pg_notify($1, $2)", liveChannel, run)
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: relay %s: %w", run, kind(err))
	}
	return nil
}

// LiveSince returns up to max of run's messages after seq of try attempt
// (0: the latest try).
func (s *Store) LiveSince(ctx context.Context, run string, attempt, seq, max int) ([]labs.LiveMessage, error) {
	if attempt == 0 {
		var latest *int
		if err := s.pool.QueryRow(ctx, "SELECT max(attempt) FROM run_live WHERE run_id = $1", run).Scan(&latest); err != nil {
			return nil, fmt.Errorf("postgres: relayed messages of %s: %w", run, err)
		}
		if latest == nil {
			return nil, nil
		}
		attempt = *latest
	}
	rows, err := s.pool.Query(ctx, `SELECT attempt, seq, data FROM run_live
		WHERE run_id = $1 AND (attempt > $2 OR (attempt = $2 AND seq > $3))
		ORDER BY attempt, seq LIMIT $4`, run, attempt, seq, max)
	if err != nil {
		return nil, fmt.Errorf("postgres: relayed messages of %s: %w", run, err)
	}
	var (
		out []labs.LiveMessage
		m   labs.LiveMessage
	)
	_, err = pgx.ForEachRow(rows, []any{&m.Attempt, &m.Seq, &m.Data}, func() error {
		out = append(out, m)
		m.Data = nil // ForEachRow scans into the same value: a fresh slice each row
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: relayed messages of %s: %w", run, err)
	}
	return out, nil
}

// ListenLive holds one connection of the pool for LISTEN until ctx is
// done or the connection fails.
func (s *Store) ListenLive(ctx context.Context, notify func(run string)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: listen for relayed messages: %w", err)
	}
	// A session that has LISTENed must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+liveChannel); err != nil {
		return fmt.Errorf("postgres: listen for relayed messages: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres: listen for relayed messages: %w", err)
		}
		notify(n.Payload)
	}
}
