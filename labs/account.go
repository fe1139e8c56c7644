package labs

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Role is what a person may do on the whole instance. Course roles (a TA of
// one course) will come with courses.
type Role string

// The roles.
const (
	RoleInstructor Role = "instructor" // manages people, settings and courses; sees every run
	RoleStudent    Role = "student"    // sees only their own runs
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleInstructor || r == RoleStudent }

// User is a person with an account. Times are UTC when read back.
type User struct {
	ID       string // made by the caller, e.g. "u-1a2b3c4d5e6f7a8b"
	Email    string // unique, compared as given: store it through NormalEmail
	Name     string
	Role     Role
	Password string // the encoded password hash; "" until the person sets one
	Created  time.Time
}

// Validate reports what makes u unusable, as an error wrapping
// [ErrInvalid]; every store refuses such a person.
func (u *User) Validate() error {
	switch {
	case u.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalid)
	case u.Email == "":
		return fmt.Errorf("%w: empty email", ErrInvalid)
	case !u.Role.Valid():
		return fmt.Errorf("%w: role %q", ErrInvalid, u.Role)
	case u.Created.IsZero():
		return fmt.Errorf("%w: zero created time", ErrInvalid)
	}
	return nil
}

// NormalEmail is the form an email address is stored and looked up in:
// without surrounding space, in lower case.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Session is a signed-in browser. Its ID is a hash of the token in the
// browser's cookie: the token itself is never stored, so a copy of the
// store signs no one in.
type Session struct {
	ID      string
	User    string
	Created time.Time
	Expires time.Time
}

// LinkPurpose says what a one-time sign-in link is for.
type LinkPurpose string

// The link purposes.
const (
	// LinkSetup creates the first instructor's account on a new instance.
	LinkSetup LinkPurpose = "setup"
	// LinkPassword lets a person set their password and sign in: an
	// invitation, or a reset an instructor issued.
	LinkPassword LinkPurpose = "password"
)

// Valid reports whether p is one of the link purposes.
func (p LinkPurpose) Valid() bool { return p == LinkSetup || p == LinkPassword }

// Link is a one-time sign-in link. Like a session, its ID is a hash of the
// token in the URL.
type Link struct {
	ID      string
	Purpose LinkPurpose
	User    string // the person it signs in; "" for LinkSetup
	Created time.Time
	Expires time.Time
	Used    time.Time // zero until used
}

// AccountStore keeps people, their sessions, one-time sign-in links and the
// instance's settings. Errors wrap [ErrNotFound], [ErrInvalid] or
// [ErrConflict] where one applies. It is safe for concurrent use.
type AccountStore interface {
	// CreateUser stores u. ErrConflict if its ID or Email is taken.
	CreateUser(ctx context.Context, u *User) error
	// User returns the person with id.
	User(ctx context.Context, id string) (*User, error)
	// UserByEmail returns the person with the email, as stored.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users returns everyone, ordered by name, then email.
	Users(ctx context.Context) ([]*User, error)
	// SetPassword replaces a person's password hash.
	SetPassword(ctx context.Context, id, hash string) error

	// CreateSession stores s. ErrConflict if its ID is taken.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with id if it has not expired at now;
	// ErrNotFound otherwise.
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	// DeleteSession ends one session; ending one that does not exist is
	// not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessions ends every session of a person and reports how many
	// there were.
	DeleteSessions(ctx context.Context, user string) (int, error)

	// CreateLink stores l. ErrConflict if its ID is taken; ErrNotFound if
	// it names a person who does not exist.
	CreateLink(ctx context.Context, l *Link) error
	// Link returns the link with id if it is unused and unexpired at now;
	// ErrNotFound otherwise. It does not use it.
	Link(ctx context.Context, id string, now time.Time) (*Link, error)
	// UseLink marks the link used at now and returns it, if it was unused
	// and unexpired; ErrNotFound otherwise. Of two concurrent uses, one
	// wins.
	UseLink(ctx context.Context, id string, now time.Time) (*Link, error)
	// Setup runs the first start in one transaction: if nobody has an
	// account yet, it drops any setup link still unused and stores l, a
	// LinkSetup, and reports true; otherwise it stores nothing and reports
	// false.
	Setup(ctx context.Context, l *Link) (bool, error)
	// CreateFirstInstructor uses the setup link id at now and stores u, an
	// instructor, in one transaction. ErrNotFound if the link is not an
	// unused, unexpired setup link; ErrConflict if someone already has an
	// account.
	CreateFirstInstructor(ctx context.Context, id string, now time.Time, u *User) error

	// Setting returns one of the instance's settings; ErrNotFound if it
	// was never set.
	Setting(ctx context.Context, key string) (string, error)
	// SetSetting stores a setting, replacing its value.
	SetSetting(ctx context.Context, key, value string) error
}

// SettingOpen is the setting that keeps the lab open to anyone without an
// account, as a self-learner uses it: "on" or "off". Unset means on.
const SettingOpen = "open"
