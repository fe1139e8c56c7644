package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/asynclab/asynclab/labs"
)

const userColumns = "id, email, name, role, password, created"

// CreateUser stores u.
func (s *Store) CreateUser(ctx context.Context, u *labs.User) error {
	err := u.Validate()
	if err == nil {
		err = s.inTx(ctx, func(tx *sql.Tx) error { return insertUser(ctx, tx, u) })
	}
	if err != nil {
		return fmt.Errorf("sqlite: create user %s: %w", u.ID, err)
	}
	return nil
}

// insertUser stores u, telling a taken id or email by ErrConflict.
func insertUser(ctx context.Context, tx *sql.Tx, u *labs.User) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, u.ID, u.Email, u.Name, string(u.Role), u.Password, nanos(u.Created))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: the id or the email is taken", labs.ErrConflict)
	}
	return nil
}

// User returns the person with id.
func (s *Store) User(ctx context.Context, id string) (*labs.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the person with email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*labs.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", email))
	if err != nil {
		return nil, fmt.Errorf("sqlite: user by email: %w", err)
	}
	return u, nil
}

// Users returns everyone, by name, then email.
func (s *Store) Users(ctx context.Context) ([]*labs.User, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY name, email")
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	var out []*labs.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return out, nil
}

func scanUser(row interface{ Scan(...any) error }) (*labs.User, error) {
	var (
		u       labs.User
		role    string
		created sql.NullInt64
	)
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.Password, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, labs.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.Role, u.Created = labs.Role(role), fromNanos(created)
	return &u, nil
}

// SetPassword replaces a person's password hash.
func (s *Store) SetPassword(ctx context.Context, id, hash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return affected(tx.ExecContext(ctx, "UPDATE users SET password = ? WHERE id = ?", hash, id))
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password of %s: %w", id, err)
	}
	return nil
}

// affected turns an UPDATE that changed no row into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		return labs.ErrNotFound
	}
	return err
}

// CreateSession stores ss.
func (s *Store) CreateSession(ctx context.Context, ss *labs.Session) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if ss.ID == "" || ss.Created.IsZero() || ss.Expires.IsZero() {
			return fmt.Errorf("%w: a session needs an id, a creation and an expiry", labs.ErrInvalid)
		}
		if err := userExists(ctx, tx, ss.User); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created, expires) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, ss.ID, ss.User, nanos(ss.Created), nanos(ss.Expires))
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
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

func userExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: no person %s", labs.ErrNotFound, id)
	}
	return err
}

// Session returns the session with id, unless it expired by now.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*labs.Session, error) {
	var (
		ss               = labs.Session{ID: id}
		created, expires sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, "SELECT user_id, created, expires FROM sessions WHERE id = ? AND expires > ?",
		id, now.UnixNano()).Scan(&ss.User, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session: %w", err)
	}
	ss.Created, ss.Expires = fromNanos(created), fromNanos(expires)
	return &ss, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteSessions ends every session of user.
func (s *Store) DeleteSessions(ctx context.Context, user string) (int, error) {
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", user)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete sessions of %s: %w", user, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateLink stores l.
func (s *Store) CreateLink(ctx context.Context, l *labs.Link) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return insertLink(ctx, tx, l) })
	if err != nil {
		return fmt.Errorf("sqlite: create link: %w", err)
	}
	return nil
}

func insertLink(ctx context.Context, tx *sql.Tx, l *labs.Link) error {
	switch {
	case l.ID == "" || l.Created.IsZero() || l.Expires.IsZero():
		return fmt.Errorf("%w: a link needs an id, a creation and an expiry", labs.ErrInvalid)
	case !l.Purpose.Valid():
		return fmt.Errorf("%w: purpose %q", labs.ErrInvalid, l.Purpose)
	case (l.Purpose == labs.LinkSetup) != (l.User == ""):
		return fmt.Errorf("%w: a setup link names no one, and every other link names someone", labs.ErrInvalid)
	}
	var user any
	if l.User != "" {
		if err := userExists(ctx, tx, l.User); err != nil {
			return err
		}
		user = l.User
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO links (id, purpose, user_id, created, expires) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, l.ID, string(l.Purpose), user, nanos(l.Created), nanos(l.Expires))
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

const linkColumns = "id, purpose, COALESCE(user_id, ''), created, expires, used"

func scanLink(row interface{ Scan(...any) error }) (*labs.Link, error) {
	var (
		l                      labs.Link
		purpose                string
		created, expires, used sql.NullInt64
	)
	err := row.Scan(&l.ID, &purpose, &l.User, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, labs.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	l.Purpose, l.Created, l.Expires, l.Used = labs.LinkPurpose(purpose), fromNanos(created), fromNanos(expires), fromNanos(used)
	return &l, nil
}

// Link returns the link with id if it is unused and unexpired at now.
func (s *Store) Link(ctx context.Context, id string, now time.Time) (*labs.Link, error) {
	l, err := scanLink(s.read.QueryRowContext(ctx, "SELECT "+linkColumns+" FROM links WHERE id = ? AND used IS NULL AND expires > ?",
		id, now.UnixNano()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: link: %w", err)
	}
	return l, nil
}

// UseLink marks the link used at now, if it was unused and unexpired.
func (s *Store) UseLink(ctx context.Context, id string, now time.Time) (*labs.Link, error) {
	var l *labs.Link
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		l, err = useLink(ctx, tx, id, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: use link: %w", err)
	}
	return l, nil
}

func useLink(ctx context.Context, tx *sql.Tx, id string, now time.Time) (*labs.Link, error) {
	return scanLink(tx.QueryRowContext(ctx, "UPDATE links SET used = ? WHERE id = ? AND used IS NULL AND expires > ? RETURNING "+linkColumns,
		now.UnixNano(), id, now.UnixNano()))
}

// Setup stores l, a setup link, if nobody has an account yet, dropping any
// earlier setup link left unused.
func (s *Store) Setup(ctx context.Context, l *labs.Link) (bool, error) {
	stored := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if l.Purpose != labs.LinkSetup {
			return fmt.Errorf("%w: purpose %q, not setup", labs.ErrInvalid, l.Purpose)
		}
		if n, err := countUsers(ctx, tx); err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE purpose = 'setup' AND used IS NULL"); err != nil {
			return err
		}
		stored = true
		return insertLink(ctx, tx, l)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: setup: %w", err)
	}
	return stored, nil
}

func countUsers(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// CreateFirstInstructor uses the setup link id and stores u, the first
// instructor, in one transaction.
func (s *Store) CreateFirstInstructor(ctx context.Context, id string, now time.Time, u *labs.User) error {
	err := u.Validate()
	if err == nil && u.Role != labs.RoleInstructor {
		err = fmt.Errorf("%w: the first account is an instructor's, not a %s's", labs.ErrInvalid, u.Role)
	}
	if err == nil {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			l, err := useLink(ctx, tx, id, now)
			if err != nil {
				return err
			}
			if l.Purpose != labs.LinkSetup {
				return fmt.Errorf("%w: not a setup link", labs.ErrNotFound)
			}
			if n, err := countUsers(ctx, tx); err != nil {
				return err
			} else if n > 0 {
				return fmt.Errorf("%w: someone already has an account", labs.ErrConflict)
			}
			return insertUser(ctx, tx, u)
		})
	}
	if err != nil {
		return fmt.Errorf("sqlite: create the first instructor: %w", err)
	}
	return nil
}

// Setting returns one of the instance's settings.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = labs.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("sqlite: set setting: %w: empty key", labs.ErrInvalid)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlite: set setting %s: %w", key, err)
	}
	return nil
}
