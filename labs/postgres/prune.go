package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

var _ labs.RunPruner = (*Store)(nil)

// pruneBatch is how many runs one prune transaction deletes, so that no
// transaction holds many rows for long.
const pruneBatch = 64

// PruneRuns deletes every finished practice run created before before,
// with its traces, a batch at a time. PostgreSQL's autovacuum makes the
// space reusable; nothing here shrinks the files.
func (s *Store) PruneRuns(ctx context.Context, before time.Time) (labs.Pruned, error) {
	var total labs.Pruned
	if before.IsZero() {
		return total, fmt.Errorf("postgres: prune runs: %w: zero time", labs.ErrInvalid)
	}
	for {
		n, err := s.pruneBatch(ctx, before)
		total.Runs += n.Runs
		total.Traces += n.Traces
		total.Bytes += n.Bytes
		if err != nil {
			return total, fmt.Errorf("postgres: prune runs created before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		if n.Runs < pruneBatch {
			return total, nil
		}
	}
}

func (s *Store) pruneBatch(ctx context.Context, before time.Time) (labs.Pruned, error) {
	var n labs.Pruned
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// SKIP LOCKED: a run another process is pruning is left to it.
		rows, err := tx.Query(ctx, `SELECT id, octet_length(code) + coalesce(octet_length(result), 0) FROM runs
			WHERE status IN ('done', 'interrupted') AND created < $1 AND mode = 'run'
			ORDER BY created, id LIMIT $2 FOR UPDATE SKIP LOCKED`, before.UnixNano(), pruneBatch)
		if err != nil {
			return err
		}
		var (
			ids        []string
			id         string
			size       int64
			runBytes   int64
			traceBytes int64
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &size}, func() error {
			ids = append(ids, id)
			runBytes += size
			return nil
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		// The traces go first, counted as they go; the runs' foreign key
		// would delete them too, uncounted.
		if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM traces WHERE run_id = ANY($1) RETURNING size)
			SELECT count(*), coalesce(sum(size), 0) FROM gone`, ids).Scan(&n.Traces, &traceBytes); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM runs WHERE id = ANY($1)", ids)
		if err != nil {
			return err
		}
		n.Runs, n.Bytes = int(tag.RowsAffected()), runBytes+traceBytes
		return nil
	})
	if err != nil {
		return labs.Pruned{}, err
	}
	return n, nil
}
