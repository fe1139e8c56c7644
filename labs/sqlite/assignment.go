package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/asynclab/asynclab/labs"
)

const assignmentColumns = "id, course_id, title, items, opens, due, late, scoring, max_submissions, created, feedback"

func assignmentJSON(a *labs.Assignment) (items, late string, err error) {
	bi, err := json.Marshal(a.Items)
	if err != nil {
		return "", "", err
	}
	bl, err := json.Marshal(append([]labs.LateWindow{}, a.Late...))
	if err != nil {
		return "", "", err
	}
	return string(bi), string(bl), nil
}

// CreateAssignment stores a.
func (s *Store) CreateAssignment(ctx context.Context, a *labs.Assignment) error {
	err := a.Validate()
	if err == nil {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM courses WHERE id = ?", a.Course).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: no course %s", labs.ErrNotFound, a.Course)
			} else if err != nil {
				return err
			}
			items, late, err := assignmentJSON(a)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO assignments (`+assignmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, a.ID, a.Course, a.Title, items, nanos(a.Opens), nanos(a.Due), late,
				string(a.Scoring), a.MaxSubmissions, nanos(a.Created), string(a.Feedback))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("%w: the id is taken", labs.ErrConflict)
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("sqlite: create assignment %s: %w", a.ID, err)
	}
	return nil
}

// UpdateAssignment replaces what an assignment asks.
func (s *Store) UpdateAssignment(ctx context.Context, a *labs.Assignment) error {
	err := a.Validate()
	if err == nil {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			items, late, err := assignmentJSON(a)
			if err != nil {
				return err
			}
			return affected(tx.ExecContext(ctx, `UPDATE assignments SET title = ?, items = ?, opens = ?, due = ?, late = ?,
				scoring = ?, max_submissions = ?, feedback = ? WHERE id = ? AND course_id = ?`, a.Title, items, nanos(a.Opens), nanos(a.Due), late,
				string(a.Scoring), a.MaxSubmissions, string(a.Feedback), a.ID, a.Course))
		})
	}
	if err != nil {
		return fmt.Errorf("sqlite: update assignment %s: %w", a.ID, err)
	}
	return nil
}

func scanAssignment(row interface{ Scan(...any) error }) (*labs.Assignment, error) {
	var (
		a                              labs.Assignment
		items, late, scoring, feedback string
		opens, due, created            sql.NullInt64
	)
	err := row.Scan(&a.ID, &a.Course, &a.Title, &items, &opens, &due, &late, &scoring, &a.MaxSubmissions, &created, &feedback)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, labs.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(items), &a.Items); err != nil {
		return nil, fmt.Errorf("assignment %s: items: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(late), &a.Late); err != nil {
		return nil, fmt.Errorf("assignment %s: late windows: %w", a.ID, err)
	}
	if len(a.Late) == 0 {
		a.Late = nil
	}
	a.Scoring, a.Feedback = labs.Scoring(scoring), labs.Feedback(feedback)
	a.Opens, a.Due, a.Created = fromNanos(opens), fromNanos(due), fromNanos(created)
	return &a, nil
}

// Assignment returns the assignment with id.
func (s *Store) Assignment(ctx context.Context, id string) (*labs.Assignment, error) {
	a, err := scanAssignment(s.read.QueryRowContext(ctx, "SELECT "+assignmentColumns+" FROM assignments WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: assignment %s: %w", id, err)
	}
	return a, nil
}

// Assignments returns a course's assignments, by due time.
func (s *Store) Assignments(ctx context.Context, course string) ([]*labs.Assignment, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+assignmentColumns+" FROM assignments WHERE course_id = ? ORDER BY due, id", course)
	if err != nil {
		return nil, fmt.Errorf("sqlite: assignments of %s: %w", course, err)
	}
	defer rows.Close()
	var out []*labs.Assignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: assignments of %s: %w", course, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: assignments of %s: %w", course, err)
	}
	return out, nil
}

// SetExtension gives a student another due time.
func (s *Store) SetExtension(ctx context.Context, e labs.Extension) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if e.Due.IsZero() {
			return fmt.Errorf("%w: zero due time", labs.ErrInvalid)
		}
		if err := userExists(ctx, tx, e.User); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM assignments WHERE id = ?", e.Assignment).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no assignment %s", labs.ErrNotFound, e.Assignment)
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO extensions (assignment_id, user_id, due) VALUES (?, ?, ?)
			ON CONFLICT (assignment_id, user_id) DO UPDATE SET due = excluded.due`, e.Assignment, e.User, nanos(e.Due))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: extension of %s for %s: %w", e.Assignment, e.User, err)
	}
	return nil
}

// Extensions returns an assignment's extensions, by user.
func (s *Store) Extensions(ctx context.Context, assignment string) ([]labs.Extension, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT user_id, due FROM extensions WHERE assignment_id = ? ORDER BY user_id", assignment)
	if err != nil {
		return nil, fmt.Errorf("sqlite: extensions of %s: %w", assignment, err)
	}
	defer rows.Close()
	var out []labs.Extension
	for rows.Next() {
		e := labs.Extension{Assignment: assignment}
		var due sql.NullInt64
		if err := rows.Scan(&e.User, &due); err != nil {
			return nil, fmt.Errorf("sqlite: extensions of %s: %w", assignment, err)
		}
		e.Due = fromNanos(due)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: extensions of %s: %w", assignment, err)
	}
	return out, nil
}

// Submissions returns the submissions made for an assignment, by user or
// by everyone, oldest first.
func (s *Store) Submissions(ctx context.Context, assignment, user string) ([]*labs.Run, error) {
	if assignment == "" {
		return nil, fmt.Errorf("sqlite: submissions: %w: no assignment", labs.ErrInvalid)
	}
	query, args := "SELECT "+lightColumns+` FROM runs WHERE assignment = ? AND mode = 'submit' ORDER BY created, id`, []any{assignment}
	if user != "" {
		query, args = "SELECT "+lightColumns+` FROM runs WHERE assignment = ? AND client = ? AND mode = 'submit' ORDER BY created, id`, []any{assignment, user}
	}
	runs, err := s.queryRuns(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: submissions of %s: %w", assignment, err)
	}
	return runs, nil
}
