package labs

import (
	"context"
	"time"
)

// CourseRole is what a person is in one course.
type CourseRole string

// The course roles. Instructors and TAs are the course's staff.
const (
	CourseInstructor CourseRole = "instructor" // runs the course: its roster and, later, its assignments
	CourseTA         CourseRole = "ta"         // sees the students' work and grades
	CourseStudent    CourseRole = "student"
)

// Valid reports whether r is one of the course roles.
func (r CourseRole) Valid() bool {
	return r == CourseInstructor || r == CourseTA || r == CourseStudent
}

// Staff reports whether r is an instructor's or a TA's.
func (r CourseRole) Staff() bool { return r == CourseInstructor || r == CourseTA }

// Course is one class in one term. Times are UTC when read back.
type Course struct {
	ID       string // made by the caller, e.g. "c-1a2b3c4d"
	Name     string // "Operating Systems"
	Term     string // "Spring 2027"
	TimeZone string // IANA name, for the course's dates: "Europe/Paris"
	JoinCode string // what students type to join; unique
	Created  time.Time
}

// Member is a person's place in a course.
type Member struct {
	Course  string
	User    string
	Role    CourseRole
	Section string // "" when the course has none
	Joined  time.Time
}

// RosterEntry is a member with their name and email, for lists.
type RosterEntry struct {
	Member
	Name, Email string
}

// Enrolment is one course a person belongs to, and as what.
type Enrolment struct {
	Course
	Role    CourseRole
	Section string
}

// CourseStore keeps courses and who is in them. Errors wrap [ErrNotFound],
// [ErrInvalid] or [ErrConflict] where one applies. It is safe for
// concurrent use.
type CourseStore interface {
	// CreateCourse stores c with owner as its instructor, in one
	// transaction. ErrConflict if its ID or JoinCode is taken; ErrNotFound
	// if owner has no account.
	CreateCourse(ctx context.Context, c *Course, owner string) error
	// Course returns the course with id.
	Course(ctx context.Context, id string) (*Course, error)
	// CourseByJoinCode returns the course a join code opens.
	CourseByJoinCode(ctx context.Context, code string) (*Course, error)
	// SetJoinCode replaces a course's join code, so the old one opens
	// nothing. ErrConflict if another course has it.
	SetJoinCode(ctx context.Context, id, code string) error
	// Courses returns every course, newest first.
	Courses(ctx context.Context) ([]*Course, error)
	// Enrolments returns the courses a person belongs to, newest first.
	Enrolments(ctx context.Context, user string) ([]Enrolment, error)

	// SetMember adds a person to a course, or changes their role and
	// section; Joined is kept from the first time. ErrNotFound if the
	// course or the person does not exist.
	SetMember(ctx context.Context, m Member) error
	// Member returns a person's place in a course; ErrNotFound if they are
	// not in it.
	Member(ctx context.Context, course, user string) (*Member, error)
	// Members returns a course's members: staff first, then by name and
	// email.
	Members(ctx context.Context, course string) ([]RosterEntry, error)
	// Teaches reports whether staff is an instructor or TA of a course in
	// which student is a student.
	Teaches(ctx context.Context, staff, student string) (bool, error)
}
