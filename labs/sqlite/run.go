package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/asynclab/asynclab/labs"
)

// runColumns are a run's columns in the order scanRun reads them;
// lightColumns leave out the code and the result, for lists.
const (
	runColumns = `id, exercise, mode, client, code, backends, scenarios, status,
		verdict, reason, score, max_score, result, created, started, finished, assignment, regrades, prediction, actual`
	lightColumns = `id, exercise, mode, client, '', backends, scenarios, status,
		verdict, reason, score, max_score, NULL, created, started, finished, assignment, regrades, prediction, actual`
)

// CreateRun stores r as queued and sets r.Status to match.
func (s *Store) CreateRun(ctx context.Context, r *labs.Run) error {
	if err := s.createRun(ctx, r); err != nil {
		return fmt.Errorf("sqlite: create run %s: %w", r.ID, err)
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
	backends, err := marshalList(r.Backends)
	if err != nil {
		return err
	}
	scenarios, err := marshalList(r.Scenarios)
	if err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO runs
		(id, exercise, mode, client, code, backends, scenarios, status, created, assignment, regrades, prediction)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.Exercise, string(r.Mode), r.Client, r.Code, backends, scenarios,
		string(labs.StatusQueued), nanos(r.Created), r.Assignment, r.Regrades, r.Prediction)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: the id is taken", labs.ErrConflict)
	}
	return nil
}

// StartRun marks a queued run, or one left running, running since at.
func (s *Store) StartRun(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlite: start run %s: %w: zero time", id, labs.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return updateRun(ctx, tx, id, `UPDATE runs SET status = 'running', started = ?
			WHERE id = ? AND status IN ('queued', 'running')`, nanos(at), id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: start run %s: %w", id, err)
	}
	return nil
}

// FinishRun marks a running run done with out and stores its traces, all
// in one transaction.
func (s *Store) FinishRun(ctx context.Context, id string, out labs.Outcome, traces []labs.Trace) error {
	switch {
	case out.Verdict == "":
		return fmt.Errorf("sqlite: finish run %s: %w: empty verdict", id, labs.ErrInvalid)
	case out.Finished.IsZero():
		return fmt.Errorf("sqlite: finish run %s: %w: zero finish time", id, labs.ErrInvalid)
	}
	for _, t := range traces {
		if t.Track == "" {
			return fmt.Errorf("sqlite: finish run %s: %w: a trace has no track", id, labs.ErrInvalid)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := updateRun(ctx, tx, id, `UPDATE runs
			SET status = 'done', verdict = ?, reason = '', score = ?, max_score = ?, result = ?, finished = ?, actual = ?
			WHERE id = ? AND status = 'running'`,
			out.Verdict, out.Score, out.Max, out.Result, nanos(out.Finished), out.Actual, id)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO traces (run_id, track, data) VALUES (?, ?, ?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range traces {
			data := t.Data
			if data == nil {
				data = []byte{} // the column is NOT NULL, and an empty trace is still a trace
			}
			if _, err := stmt.ExecContext(ctx, id, t.Track, data); err != nil {
				return fmt.Errorf("trace %s: %w", t.Track, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish run %s: %w", id, err)
	}
	s.afterWrite(ctx)
	return nil
}

// InterruptRun marks a queued or running run interrupted at at, for reason.
func (s *Store) InterruptRun(ctx context.Context, id, reason string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlite: interrupt run %s: %w: zero time", id, labs.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return updateRun(ctx, tx, id, `UPDATE runs
			SET status = 'interrupted', verdict = ?, reason = ?, finished = ?
			WHERE id = ? AND status IN ('queued', 'running')`,
			labs.VerdictInterrupted, reason, nanos(at), id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: interrupt run %s: %w", id, err)
	}
	return nil
}

// Run returns the run with id.
func (s *Store) Run(ctx context.Context, id string) (*labs.Run, error) {
	r, err := scanRun(s.read.QueryRowContext(ctx, "SELECT "+runColumns+" FROM runs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: run %s: %w", id, err)
	}
	return r, nil
}

// Traces returns every trace of a run, ordered by track.
func (s *Store) Traces(ctx context.Context, id string) ([]labs.Trace, error) {
	traces, err := s.traces(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: traces of run %s: %w", id, err)
	}
	return traces, nil
}

func (s *Store) traces(ctx context.Context, id string) ([]labs.Trace, error) {
	// One read transaction, so that the run cannot go between the two
	// queries.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := runExists(ctx, tx, id); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT track, data FROM traces WHERE run_id = ? ORDER BY track", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var traces []labs.Trace
	for rows.Next() {
		var t labs.Trace
		if err := rows.Scan(&t.Track, &t.Data); err != nil {
			return nil, err
		}
		traces = append(traces, t)
	}
	return traces, rows.Err()
}

// RunStatus returns where the run with id is.
func (s *Store) RunStatus(ctx context.Context, id string) (labs.RunStatus, error) {
	var st labs.RunStatus
	err := s.read.QueryRowContext(ctx, "SELECT status FROM runs WHERE id = ?", id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: status of run %s: %w", id, err)
	}
	return st, nil
}

// Trace returns the data of one track of a run.
func (s *Store) Trace(ctx context.Context, id, track string) ([]byte, error) {
	var data []byte
	err := s.read.QueryRowContext(ctx, "SELECT data FROM traces WHERE run_id = ? AND track = ?", id, track).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: trace %s of run %s: %w", track, id, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// ClientRuns returns up to limit of a client's runs of an exercise (""
// for every exercise), newest first, without Code and Result.
func (s *Store) ClientRuns(ctx context.Context, client, exercise string, limit int) ([]*labs.Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	// Two queries rather than "(? = '' OR exercise = ?)", which would keep
	// the planner from using the whole index.
	query, args := "SELECT "+lightColumns+` FROM runs WHERE client = ?
		ORDER BY created DESC, id DESC LIMIT ?`, []any{client, limit}
	if exercise != "" {
		query, args = "SELECT "+lightColumns+` FROM runs WHERE client = ? AND exercise = ?
			ORDER BY created DESC, id DESC LIMIT ?`, []any{client, exercise, limit}
	}
	runs, err := s.queryRuns(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of client %s: %w", client, err)
	}
	return runs, nil
}

// BestScores returns, per exercise, the client's best-scoring submission
// that is done; of equal scores, the earliest.
func (s *Store) BestScores(ctx context.Context, client string) (map[string]labs.Best, error) {
	best, err := s.bestScores(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("sqlite: best scores of client %s: %w", client, err)
	}
	return best, nil
}

func (s *Store) bestScores(ctx context.Context, client string) (map[string]labs.Best, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT exercise, score, max_score, id, created FROM (
			SELECT exercise, score, max_score, id, created, row_number() OVER (
				PARTITION BY exercise ORDER BY score DESC, created, id) AS place
			FROM runs WHERE client = ? AND mode = 'submit' AND status = 'done')
		WHERE place = 1`, client)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	best := make(map[string]labs.Best)
	for rows.Next() {
		var b labs.Best
		var at sql.NullInt64
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
		return nil, fmt.Errorf("sqlite: unfinished runs: %w", err)
	}
	return runs, nil
}

func (s *Store) queryRuns(ctx context.Context, query string, args ...any) ([]*labs.Run, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []*labs.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// inTx runs fn in a write transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// updateRun runs an UPDATE of the run id. When it changes nothing, it tells
// a missing run (ErrNotFound) from one in a status the update does not
// start from (ErrConflict).
func updateRun(ctx context.Context, tx *sql.Tx, id, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM runs WHERE id = ?", id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return labs.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: the run is %s", labs.ErrConflict, status)
}

func runExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM runs WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return labs.ErrNotFound
	}
	return err
}

// scanRun reads the columns of runColumns or lightColumns.
func scanRun(row interface{ Scan(...any) error }) (*labs.Run, error) {
	var (
		r                          labs.Run
		backends, scenarios        string
		created, started, finished sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.Exercise, &r.Mode, &r.Client, &r.Code, &backends, &scenarios, &r.Status,
		&r.Verdict, &r.Reason, &r.Score, &r.Max, &r.Result, &created, &started, &finished, &r.Assignment, &r.Regrades, &r.Prediction, &r.Actual)
	if err != nil {
		return nil, err
	}
	if r.Backends, err = unmarshalList(backends); err != nil {
		return nil, fmt.Errorf("run %s: backends: %w", r.ID, err)
	}
	if r.Scenarios, err = unmarshalList(scenarios); err != nil {
		return nil, fmt.Errorf("run %s: scenarios: %w", r.ID, err)
	}
	r.Created, r.Started, r.Finished = fromNanos(created), fromNanos(started), fromNanos(finished)
	return &r, nil
}

// marshalList stores a list as a JSON array, never null.
func marshalList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// unmarshalList reads a list stored by marshalList; empty is nil.
func unmarshalList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}
