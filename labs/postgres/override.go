package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

// SetOverride sets a student's points on one exercise and audits it.
func (s *Store) SetOverride(ctx context.Context, o labs.Override, detail string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		switch {
		case o.Exercise == "" || o.By == "" || o.At.IsZero():
			return fmt.Errorf("%w: an override needs an exercise, who set it and when", labs.ErrInvalid)
		case o.Points < 0:
			return fmt.Errorf("%w: negative points", labs.ErrInvalid)
		}
		if err := userExists(ctx, tx, o.User); err != nil {
			return err
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM assignments WHERE id = $1", o.Assignment).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no assignment %s", labs.ErrNotFound, o.Assignment)
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO overrides (assignment_id, user_id, exercise, points, comment, by_user, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (assignment_id, user_id, exercise) DO UPDATE SET
				points = excluded.points, comment = excluded.comment, by_user = excluded.by_user, at = excluded.at`,
			o.Assignment, o.User, o.Exercise, o.Points, o.Comment, o.By, nanos(o.At))
		if err != nil {
			return kind(err)
		}
		return audit(ctx, tx, labs.AuditEntry{At: o.At, By: o.By, Subject: o.Assignment, Action: "override", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("postgres: override of %s for %s: %w", o.Assignment, o.User, err)
	}
	return nil
}

// Overrides returns an assignment's overrides, by user and exercise.
func (s *Store) Overrides(ctx context.Context, assignment string) ([]labs.Override, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, exercise, points, comment, by_user, at FROM overrides
		WHERE assignment_id = $1 ORDER BY user_id, exercise`, assignment)
	if err != nil {
		return nil, fmt.Errorf("postgres: overrides of %s: %w", assignment, err)
	}
	defer rows.Close()
	var out []labs.Override
	for rows.Next() {
		o := labs.Override{Assignment: assignment}
		var at *int64
		if err := rows.Scan(&o.User, &o.Exercise, &o.Points, &o.Comment, &o.By, &at); err != nil {
			return nil, fmt.Errorf("postgres: overrides of %s: %w", assignment, err)
		}
		o.At = fromNanos(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: overrides of %s: %w", assignment, err)
	}
	return out, nil
}

func audit(ctx context.Context, tx pgx.Tx, e labs.AuditEntry) error {
	if e.At.IsZero() || e.By == "" || e.Subject == "" || e.Action == "" {
		return fmt.Errorf("%w: an audit entry needs a time, a person, a subject and an action", labs.ErrInvalid)
	}
	_, err := tx.Exec(ctx, "INSERT INTO audit (at, by_user, subject, action, detail) VALUES ($1, $2, $3, $4, $5)",
		nanos(e.At), e.By, e.Subject, e.Action, e.Detail)
	return err
}

// Audit records e in the audit log.
func (s *Store) Audit(ctx context.Context, e labs.AuditEntry) error {
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return audit(ctx, tx, e) }); err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	return nil
}

// AuditLog returns the audit entries about subject, oldest first.
func (s *Store) AuditLog(ctx context.Context, subject string) ([]labs.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, "SELECT at, by_user, action, detail FROM audit WHERE subject = $1 ORDER BY seq", subject)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit log of %s: %w", subject, err)
	}
	defer rows.Close()
	var out []labs.AuditEntry
	for rows.Next() {
		e := labs.AuditEntry{Subject: subject}
		var at *int64
		if err := rows.Scan(&at, &e.By, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("postgres: audit log of %s: %w", subject, err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: audit log of %s: %w", subject, err)
	}
	return out, nil
}
