package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/labs"
)

const courseColumns = "id, name, term, time_zone, join_code, created"

// CreateCourse stores c with owner as its instructor.
func (s *Store) CreateCourse(ctx context.Context, c *labs.Course, owner string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		switch {
		case c.ID == "" || c.Name == "" || c.JoinCode == "":
			return fmt.Errorf("%w: a course needs an id, a name and a join code", labs.ErrInvalid)
		case c.Created.IsZero():
			return fmt.Errorf("%w: zero created time", labs.ErrInvalid)
		}
		if err := userExists(ctx, tx, owner); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO courses (`+courseColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, c.ID, c.Name, c.Term, c.TimeZone, c.JoinCode, nanos(c.Created))
		if err != nil {
			return kind(err)
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("%w: the id or the join code is taken", labs.ErrConflict)
		}
		_, err = tx.Exec(ctx, "INSERT INTO members (course_id, user_id, role, section, joined) VALUES ($1, $2, 'instructor', '', $3)",
			c.ID, owner, nanos(c.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create course %s: %w", c.ID, err)
	}
	return nil
}

func scanCourse(row pgx.Row, extra ...any) (*labs.Course, error) {
	var (
		c       labs.Course
		created *int64
	)
	err := row.Scan(append([]any{&c.ID, &c.Name, &c.Term, &c.TimeZone, &c.JoinCode, &created}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, labs.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.Created = fromNanos(created)
	return &c, nil
}

// Course returns the course with id.
func (s *Store) Course(ctx context.Context, id string) (*labs.Course, error) {
	c, err := scanCourse(s.pool.QueryRow(ctx, "SELECT "+courseColumns+" FROM courses WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("postgres: course %s: %w", id, err)
	}
	return c, nil
}

// CourseByJoinCode returns the course a join code opens.
func (s *Store) CourseByJoinCode(ctx context.Context, code string) (*labs.Course, error) {
	c, err := scanCourse(s.pool.QueryRow(ctx, "SELECT "+courseColumns+" FROM courses WHERE join_code = $1", code))
	if err != nil {
		return nil, fmt.Errorf("postgres: course by join code: %w", err)
	}
	return c, nil
}

// SetJoinCode replaces a course's join code.
func (s *Store) SetJoinCode(ctx context.Context, id, code string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if code == "" {
			return fmt.Errorf("%w: empty join code", labs.ErrInvalid)
		}
		var other string
		err := tx.QueryRow(ctx, "SELECT id FROM courses WHERE join_code = $1 AND id <> $2", code, id).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w: another course has the join code", labs.ErrConflict)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return affected(tx.Exec(ctx, "UPDATE courses SET join_code = $1 WHERE id = $2", code, id))
	})
	if err != nil {
		return fmt.Errorf("postgres: set join code of %s: %w", id, err)
	}
	return nil
}

// Courses returns every course, newest first.
func (s *Store) Courses(ctx context.Context) ([]*labs.Course, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+courseColumns+" FROM courses ORDER BY created DESC, id")
	if err != nil {
		return nil, fmt.Errorf("postgres: courses: %w", err)
	}
	defer rows.Close()
	var out []*labs.Course
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: courses: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: courses: %w", err)
	}
	return out, nil
}

// Enrolments returns the courses user belongs to, newest first.
func (s *Store) Enrolments(ctx context.Context, user string) ([]labs.Enrolment, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.name, c.term, c.time_zone, c.join_code, c.created, m.role, m.section
		FROM members m JOIN courses c ON c.id = m.course_id WHERE m.user_id = $1 ORDER BY c.created DESC, c.id`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: enrolments of %s: %w", user, err)
	}
	defer rows.Close()
	var out []labs.Enrolment
	for rows.Next() {
		var e labs.Enrolment
		var role string
		c, err := scanCourse(rows, &role, &e.Section)
		if err != nil {
			return nil, fmt.Errorf("postgres: enrolments of %s: %w", user, err)
		}
		e.Course, e.Role = *c, labs.CourseRole(role)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: enrolments of %s: %w", user, err)
	}
	return out, nil
}

// SetMember adds a person to a course or changes their role and section.
func (s *Store) SetMember(ctx context.Context, m labs.Member) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		switch {
		case !m.Role.Valid():
			return fmt.Errorf("%w: role %q", labs.ErrInvalid, m.Role)
		case m.Joined.IsZero():
			return fmt.Errorf("%w: zero joined time", labs.ErrInvalid)
		}
		if err := userExists(ctx, tx, m.User); err != nil {
			return err
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM courses WHERE id = $1", m.Course).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no course %s", labs.ErrNotFound, m.Course)
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (course_id, user_id, role, section, joined) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (course_id, user_id) DO UPDATE SET role = excluded.role, section = excluded.section`,
			m.Course, m.User, string(m.Role), m.Section, nanos(m.Joined))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set member %s of %s: %w", m.User, m.Course, err)
	}
	return nil
}

// Member returns a person's place in a course.
func (s *Store) Member(ctx context.Context, course, user string) (*labs.Member, error) {
	m := labs.Member{Course: course, User: user}
	var (
		role   string
		joined *int64
	)
	err := s.pool.QueryRow(ctx, "SELECT role, section, joined FROM members WHERE course_id = $1 AND user_id = $2",
		course, user).Scan(&role, &m.Section, &joined)
	if errors.Is(err, pgx.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: member %s of %s: %w", user, course, err)
	}
	m.Role, m.Joined = labs.CourseRole(role), fromNanos(joined)
	return &m, nil
}

// Members returns a course's members, staff first, then by name and email.
func (s *Store) Members(ctx context.Context, course string) ([]labs.RosterEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.user_id, m.role, m.section, m.joined, u.name, u.email
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.course_id = $1
		ORDER BY CASE m.role WHEN 'instructor' THEN 0 WHEN 'ta' THEN 1 ELSE 2 END, u.name, u.email`, course)
	if err != nil {
		return nil, fmt.Errorf("postgres: members of %s: %w", course, err)
	}
	defer rows.Close()
	var out []labs.RosterEntry
	for rows.Next() {
		e := labs.RosterEntry{Member: labs.Member{Course: course}}
		var (
			role   string
			joined *int64
		)
		if err := rows.Scan(&e.User, &role, &e.Section, &joined, &e.Name, &e.Email); err != nil {
			return nil, fmt.Errorf("postgres: members of %s: %w", course, err)
		}
		e.Role, e.Joined = labs.CourseRole(role), fromNanos(joined)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: members of %s: %w", course, err)
	}
	return out, nil
}

// Teaches reports whether staff teaches a course student is a student of.
func (s *Store) Teaches(ctx context.Context, staff, student string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM members t JOIN members st ON st.course_id = t.course_id
		WHERE t.user_id = $1 AND t.role IN ('instructor', 'ta') AND st.user_id = $2 AND st.role = 'student' LIMIT 1`,
		staff, student).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: does %s teach %s: %w", staff, student, err)
	}
	return true, nil
}
