package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

// runColumns are a run's columns in the order scanRun reads them;
// lightColumns leave out the code and the result, for lists.
const (
	runColumns = `id, exercise, mode, client, code, backends, scenarios, status,
		verdict, reason, score, max_score, result, created, started, finished, assignment, regrades, prediction, actual`
	lightColumns = `id, exercise, mode, client, ''::bytea, backends, scenarios, status,
		verdict, reason, score, max_score, NULL::bytea, created, started, finished, assignment, regrades, prediction, actual`
)

// CreateRun stores r as queued and sets r.Status to match.
func (s *Store) CreateRun(ctx context.Context, r *labs.Run) error {
	if err := s.createRun(ctx, r); err != nil {
		return fmt.Errorf("postgres: create run %s: %w", r.ID, err)
	}
	r.Status = labs.StatusQueued
	return nil
}

func (s *Store) createRun(ctx context.Context, r *labs.Run) error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: empty id", labs.ErrInvalid)
	case r.Exercise == "":
		return fmt.Errorf("%w: empty exercise", labs.ErrInvalid)
	case !r.Mode.Valid():
		return fmt.Errorf("%w: mode %q", labs.ErrInvalid, r.Mode)
	case r.Created.IsZero():
		return fmt.Errorf("%w: zero created time", labs.ErrInvalid)
	case r.Regrades != "" && (r.Mode != labs.ModeSubmit || r.Assignment == ""):
		return fmt.Errorf("%w: only a submission for an assignment regrades one", labs.ErrInvalid)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO runs
		(id, exercise, mode, client, code, backends, scenarios, status, created, assignment, regrades, prediction)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.Exercise, string(r.Mode), r.Client, []byte(r.Code), list(r.Backends), list(r.Scenarios),
		string(labs.StatusQueued), nanos(r.Created), r.Assignment, r.Regrades, r.Prediction)
	if err != nil {
		return kind(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: the id is taken", labs.ErrConflict)
	}
	return nil
}

// StartRun marks a queued run, or one left running, running since at.
func (s *Store) StartRun(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("postgres: start run %s: %w: zero time", id, labs.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return updateRun(ctx, tx, id, `UPDATE runs SET status = 'running', started = $1
			WHERE id = $2 AND status IN ('queued', 'running')`, nanos(at), id)
	})
	if err != nil {
		return fmt.Errorf("postgres: start run %s: %w", id, kind(err))
	}
	return nil
}

// FinishRun marks a running run done with out and stores its traces, all
// in one transaction.
func (s *Store) FinishRun(ctx context.Context, id string, out labs.Outcome, traces []labs.Trace) error {
	switch {
	case out.Verdict == "":
		return fmt.Errorf("postgres: finish run %s: %w: empty verdict", id, labs.ErrInvalid)
	case out.Finished.IsZero():
		return fmt.Errorf("postgres: finish run %s: %w: zero finish time", id, labs.ErrInvalid)
	}
	for _, t := range traces {
		if t.Track == "" {
			return fmt.Errorf("postgres: finish run %s: %w: a trace has no track", id, labs.ErrInvalid)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := updateRun(ctx, tx, id, `UPDATE runs
			SET status = 'done', verdict = $1, reason = '', score = $2, max_score = $3, result = $4, finished = $5, actual = $6
			WHERE id = $7 AND status = 'running'`,
			out.Verdict, out.Score, out.Max, out.Result, nanos(out.Finished), out.Actual, id)
		if err != nil {
			return err
		}
		for _, t := range traces {
			if err := insertTrace(ctx, tx, id, t); err != nil {
				return fmt.Errorf("trace %s: %w", t.Track, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: finish run %s: %w", id, kind(err))
	}
	return nil
}

// InterruptRun marks a queued or running run interrupted at at, for reason.
func (s *Store) InterruptRun(ctx context.Context, id, reason string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("postgres: interrupt run %s: %w: zero time", id, labs.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return updateRun(ctx, tx, id, `UPDATE runs
			SET status = 'interrupted', verdict = $1, reason = $2, finished = $3
			WHERE id = $4 AND status IN ('queued', 'running')`,
			labs.VerdictInterrupted, reason, nanos(at), id)
	})
	if err != nil {
		return fmt.Errorf("postgres: interrupt run %s: %w", id, kind(err))
	}
	return nil
}

// Run returns the run with id.
func (s *Store) Run(ctx context.Context, id string) (*labs.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, "SELECT "+runColumns+" FROM runs WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: run %s: %w", id, kind(err))
	}
	return r, nil
}

// Traces returns every trace of a run, ordered by track.
func (s *Store) Traces(ctx context.Context, id string) ([]labs.Trace, error) {
	var traces []labs.Trace
	// One repeatable-read transaction, so that the run cannot go between
	// the two queries.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			if err := runExists(ctx, tx, id); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT t.track, t.size, c.data FROM traces t
				LEFT JOIN trace_chunks c ON c.run_id = t.run_id AND c.track = t.track
				WHERE t.run_id = $1 ORDER BY t.track, c.seq`, id)
			if err != nil {
				return err
			}
			var (
				track string
				size  int64
				chunk []byte
			)
			_, err = pgx.ForEachRow(rows, []any{&track, &size, &chunk}, func() error {
				if len(traces) == 0 || traces[len(traces)-1].Track != track {
					traces = append(traces, labs.Trace{Track: track, Data: make([]byte, 0, size)})
				}
				t := &traces[len(traces)-1]
				t.Data = append(t.Data, chunk...)
				return nil
			})
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: traces of run %s: %w", id, kind(err))
	}
	return traces, nil
}

// RunStatus returns where the run with id is.
func (s *Store) RunStatus(ctx context.Context, id string) (labs.RunStatus, error) {
	var st labs.RunStatus
	err := s.pool.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1", id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: status of run %s: %w", id, kind(err))
	}
	return st, nil
}

// Trace returns the data of one track of a run.
func (s *Store) Trace(ctx context.Context, id, track string) ([]byte, error) {
	var data []byte
	// One query, so that the trace cannot go between reading its size
	// and its chunks.
	rows, err := s.pool.Query(ctx, `SELECT t.size, c.data FROM traces t
		LEFT JOIN trace_chunks c ON c.run_id = t.run_id AND c.track = t.track
		WHERE t.run_id = $1 AND t.track = $2 ORDER BY c.seq`, id, track)
	if err == nil {
		var (
			size  int64
			chunk []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&size, &chunk}, func() error {
			if data == nil {
				data = make([]byte, 0, size)
			}
			data = append(data, chunk...)
			return nil
		})
	}
	if err == nil && data == nil {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: trace %s of run %s: %w", track, id, kind(err))
	}
	return data, nil
}

// chunkSize is the most bytes of a trace one row of trace_chunks holds.
const chunkSize = 64 << 10

// insertTrace stores t of run id: its row in traces, then its chunks.
func insertTrace(ctx context.Context, tx pgx.Tx, id string, t labs.Trace) error {
	if _, err := tx.Exec(ctx, "INSERT INTO traces (run_id, track, size) VALUES ($1, $2, $3)", id, t.Track, len(t.Data)); err != nil {
		return err
	}
	var b pgx.Batch
	for seq := 0; seq*chunkSize < len(t.Data); seq++ {
		chunk := t.Data[seq*chunkSize : min((seq+1)*chunkSize, len(t.Data))]
		b.Queue("INSERT INTO trace_chunks (run_id, track, seq, data) VALUES ($1, $2, $3, $4)", id, t.Track, seq, chunk)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &b).Close()
}

// ClientRuns returns up to limit of a client's runs of an exercise (""
// for every exercise), newest first, without Code and Result.
func (s *Store) ClientRuns(ctx context.Context, client, exercise string, limit int) ([]*labs.Run, error) {
	var lim *int64 // LIMIT NULL: no limit
	if limit > 0 {
		n := int64(limit)
		lim = &n
	}
	// Two queries rather than "($2 = '' OR exercise = $2)", which would
	// keep the planner from using the whole index.
	query, args := "SELECT "+lightColumns+` FROM runs WHERE client = $1
		ORDER BY created DESC, id DESC LIMIT $2`, []any{client, lim}
	if exercise != "" {
		query, args = "SELECT "+lightColumns+` FROM runs WHERE client = $1 AND exercise = $2
			ORDER BY created DESC, id DESC LIMIT $3`, []any{client, exercise, lim}
	}
	runs, err := s.queryRuns(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: runs of client %s: %w", client, kind(err))
	}
	return runs, nil
}

// BestScores returns, per exercise, the client's best-scoring submission
// that is done; of equal scores, the earliest.
func (s *Store) BestScores(ctx context.Context, client string) (map[string]labs.Best, error) {
	rows, err := s.pool.Query(ctx, `SELECT exercise, score, max_score, id, created FROM (
			SELECT exercise, score, max_score, id, created, row_number() OVER (
				PARTITION BY exercise ORDER BY score DESC, created, id) AS place
			FROM runs WHERE client = $1 AND mode = 'submit' AND status = 'done') AS ranked
		WHERE place = 1`, client)
	var best map[string]labs.Best
	if err == nil {
		best, err = collectBest(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: best scores of client %s: %w", client, kind(err))
	}
	return best, nil
}

func collectBest(rows pgx.Rows) (map[string]labs.Best, error) {
	defer rows.Close()
	best := make(map[string]labs.Best)
	for rows.Next() {
		var b labs.Best
		var at *int64
		if err := rows.Scan(&b.Exercise, &b.Score, &b.Max, &b.RunID, &at); err != nil {
			return nil, err
		}
		b.At = fromNanos(at)
		best[b.Exercise] = b
	}
	return best, rows.Err()
}

// Unfinished returns every queued or running run, oldest first.
func (s *Store) Unfinished(ctx context.Context) ([]*labs.Run, error) {
	runs, err := s.queryRuns(ctx, "SELECT "+runColumns+` FROM runs
		WHERE status IN ('queued', 'running') ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: unfinished runs: %w", kind(err))
	}
	return runs, nil
}

func (s *Store) queryRuns(ctx context.Context, query string, args ...any) ([]*labs.Run, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*labs.Run, error) { return scanRun(row) })
}

// updateRun runs an UPDATE of the run id. When it changes nothing, it tells
// a missing run (ErrNotFound) from one in a status the update does not
// start from (ErrConflict).
func updateRun(ctx context.Context, tx pgx.Tx, id, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	var status string
	err = tx.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1", id).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return labs.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: the run is %s", labs.ErrConflict, status)
}

func runExists(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM runs WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return labs.ErrNotFound
	}
	return err
}

// scanRun reads the columns of runColumns or lightColumns.
func scanRun(row pgx.Row) (*labs.Run, error) {
	var (
		r                          labs.Run
		code                       []byte
		created, started, finished *int64
	)
	err := row.Scan(&r.ID, &r.Exercise, &r.Mode, &r.Client, &code, &r.Backends, &r.Scenarios, &r.Status,
		&r.Verdict, &r.Reason, &r.Score, &r.Max, &r.Result, &created, &started, &finished, &r.Assignment, &r.Regrades, &r.Prediction, &r.Actual)
	if err != nil {
		return nil, err
	}
	r.Code = string(code)
	r.Backends, r.Scenarios = unlist(r.Backends), unlist(r.Scenarios)
	r.Created, r.Started, r.Finished = fromNanos(created), fromNanos(started), fromNanos(finished)
	return &r, nil
}

// list stores a list as an array, never NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// unlist reads a list stored by list; empty is nil.
func unlist(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
