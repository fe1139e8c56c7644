package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

// CreateRegrade stores g and audits it, in one transaction.
func (s *Store) CreateRegrade(ctx context.Context, g *labs.Regrade, detail string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := g.Validate(); err != nil {
			return err
		}
		items, err := json.Marshal(g.Items)
		if err != nil {
			return err
		}
		before, err := json.Marshal(g.Before)
		if err != nil {
			return err
		}
		var one int
		err = tx.QueryRow(ctx, "SELECT 1 FROM assignments WHERE id = $1", g.Assignment).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no assignment %s", labs.ErrNotFound, g.Assignment)
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO regrades (id, assignment_id, scope, by_user, at, items, before)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			g.ID, g.Assignment, g.Scope, g.By, nanos(g.At), string(items), string(before))
		if err != nil {
			return kind(err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: the id is taken", labs.ErrConflict)
		}
		return audit(ctx, tx, labs.AuditEntry{At: g.At, By: g.By, Subject: g.Assignment, Action: "regrade", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("postgres: create regrade %s: %w", g.ID, err)
	}
	return nil
}

const regradeColumns = "id, assignment_id, scope, by_user, at, items, before"

// Regrade returns the regrade with id.
func (s *Store) Regrade(ctx context.Context, id string) (*labs.Regrade, error) {
	g, err := scanRegrade(s.pool.QueryRow(ctx, "SELECT "+regradeColumns+" FROM regrades WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: regrade %s: %w", id, err)
	}
	return g, nil
}

// Regrades returns an assignment's regrades, newest first.
func (s *Store) Regrades(ctx context.Context, assignment string) ([]*labs.Regrade, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+regradeColumns+` FROM regrades
		WHERE assignment_id = $1 ORDER BY at DESC, id DESC`, assignment)
	if err != nil {
		return nil, fmt.Errorf("postgres: regrades of %s: %w", assignment, err)
	}
	defer rows.Close()
	var out []*labs.Regrade
	for rows.Next() {
		g, err := scanRegrade(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: regrades of %s: %w", assignment, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: regrades of %s: %w", assignment, err)
	}
	return out, nil
}

func scanRegrade(row interface{ Scan(...any) error }) (*labs.Regrade, error) {
	var (
		g             labs.Regrade
		at            *int64
		items, before string
	)
	if err := row.Scan(&g.ID, &g.Assignment, &g.Scope, &g.By, &at, &items, &before); err != nil {
		return nil, err
	}
	g.At = fromNanos(at)
	if err := json.Unmarshal([]byte(items), &g.Items); err != nil {
		return nil, fmt.Errorf("regrade %s: items: %w", g.ID, err)
	}
	if err := json.Unmarshal([]byte(before), &g.Before); err != nil {
		return nil, fmt.Errorf("regrade %s: before: %w", g.ID, err)
	}
	return &g, nil
}
