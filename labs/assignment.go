package labs

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// AssignmentItem is one exercise of an assignment and what it is worth.
type AssignmentItem struct {
	Exercise string `json:"exercise"`
	Points   int    `json:"points"`
}

// LateWindow gives a submission made after the due time, but within
// Within of it, Credit percent of its score, as PrairieLearn's late
// periods do.
type LateWindow struct {
	Within time.Duration `json:"within"`
	Credit int           `json:"credit"` // 0-100
}

// Scoring says which submission of an exercise counts.
type Scoring string

// The scorings.
const (
	ScoreBest Scoring = "best" // the submission that earns the most
	ScoreLast Scoring = "last" // the latest submission
)

// Feedback says what a student sees of a submission's grading before the
// due time.
type Feedback string

// The feedbacks.
const (
	FeedbackAll      Feedback = "all"       // every check, its message and the score
	FeedbackPassFail Feedback = "pass-fail" // only whether it passed, until the due time
)

// Assignment is a set of exercises a course's students submit for points,
// between Opens and the end of its last late window. Times are UTC when
// read back; the course's time zone is how they are shown.
type Assignment struct {
	ID     string // made by the caller, e.g. "a-1a2b3c4d"
	Course string
	Title  string
	Items  []AssignmentItem
	Opens  time.Time
	Due    time.Time
	// Late lists the late windows, Within ascending; none: nothing after
	// Due counts.
	Late    []LateWindow
	Scoring Scoring
	// MaxSubmissions caps a student's submissions of each exercise; 0
	// sets no cap.
	MaxSubmissions int
	// Feedback is what a student sees of a submission before their due
	// time; after it, everything.
	Feedback Feedback
	Created  time.Time
}

// Validate reports what makes a unusable, as an error wrapping
// [ErrInvalid]; every store refuses such an assignment.
func (a *Assignment) Validate() error {
	switch {
	case a.ID == "" || a.Course == "" || a.Title == "":
		return fmt.Errorf("%w: an assignment needs an id, a course and a title", ErrInvalid)
	case len(a.Items) == 0:
		return fmt.Errorf("%w: an assignment needs an exercise", ErrInvalid)
	case a.Opens.IsZero() || a.Due.IsZero() || a.Created.IsZero():
		return fmt.Errorf("%w: an assignment needs its opening, due and creation times", ErrInvalid)
	case a.Due.Before(a.Opens):
		return fmt.Errorf("%w: due before it opens", ErrInvalid)
	case a.Scoring != ScoreBest && a.Scoring != ScoreLast:
		return fmt.Errorf("%w: scoring %q", ErrInvalid, a.Scoring)
	case a.MaxSubmissions < 0:
		return fmt.Errorf("%w: a negative cap", ErrInvalid)
	case a.Feedback != FeedbackAll && a.Feedback != FeedbackPassFail:
		return fmt.Errorf("%w: feedback %q", ErrInvalid, a.Feedback)
	}
	for i, w := range a.Late {
		if w.Within <= 0 || w.Credit < 0 || w.Credit > 100 || i > 0 && w.Within <= a.Late[i-1].Within {
			return fmt.Errorf("%w: late windows run after the due time, longer each, with credit 0-100", ErrInvalid)
		}
	}
	for _, it := range a.Items {
		if it.Exercise == "" || it.Points < 0 {
			return fmt.Errorf("%w: an item needs an exercise and points", ErrInvalid)
		}
	}
	return nil
}

// Points is what the assignment is worth.
func (a *Assignment) Points() int {
	n := 0
	for _, it := range a.Items {
		n += it.Points
	}
	return n
}

// Item returns the assignment's item for exercise, and whether it has one.
func (a *Assignment) Item(exercise string) (AssignmentItem, bool) {
	i := slices.IndexFunc(a.Items, func(it AssignmentItem) bool { return it.Exercise == exercise })
	if i < 0 {
		return AssignmentItem{}, false
	}
	return a.Items[i], true
}

// Closes is when submissions stop counting for a student whose due time
// is due: at the end of the last late window.
func (a *Assignment) Closes(due time.Time) time.Time {
	if len(a.Late) == 0 {
		return due
	}
	return due.Add(a.Late[len(a.Late)-1].Within)
}

// Credit is the percentage of its score a submission made at t earns,
// for a student whose due time is due: 100 until due, then each late
// window's, then 0.
func (a *Assignment) Credit(t, due time.Time) int {
	if t.Before(a.Opens) {
		return 0
	}
	if !t.After(due) {
		return 100
	}
	for _, w := range a.Late {
		if !t.After(due.Add(w.Within)) {
			return w.Credit
		}
	}
	return 0
}

// Extension gives one student another due time for an assignment; the late
// windows follow it.
type Extension struct {
	Assignment string
	User       string
	Due        time.Time
}

// Override replaces what a student earned on one exercise of an
// assignment, whatever their submissions earn, with the reason they see.
type Override struct {
	Assignment, User, Exercise string
	Points                     float64
	Comment                    string
	By                         string // the staff member who set it
	At                         time.Time
}

// AuditEntry is one change to grades, kept for good: who did what, when.
type AuditEntry struct {
	At      time.Time
	By      string // a person's id
	Subject string // what it is about: an assignment's id
	Action  string // "override", "extension"
	Detail  string // what changed, in words
}

// AssignmentStore keeps a course's assignments and their extensions. Runs
// made for an assignment carry its ID (Run.Assignment). Errors wrap
// [ErrNotFound], [ErrInvalid] or [ErrConflict] where one applies. It is safe
// for concurrent use.
type AssignmentStore interface {
	// CreateAssignment stores a. ErrConflict if its ID is taken;
	// ErrNotFound if its course does not exist.
	CreateAssignment(ctx context.Context, a *Assignment) error
	// UpdateAssignment replaces what an assignment asks (title, items,
	// dates, late windows, scoring, cap); its course and ID stay.
	UpdateAssignment(ctx context.Context, a *Assignment) error
	// Assignment returns the assignment with id.
	Assignment(ctx context.Context, id string) (*Assignment, error)
	// Assignments returns a course's assignments, by due time.
	Assignments(ctx context.Context, course string) ([]*Assignment, error)
	// SetExtension gives a student another due time, replacing any they
	// had. ErrNotFound if the assignment or the person does not exist.
	SetExtension(ctx context.Context, e Extension) error
	// Extensions returns an assignment's extensions, by user.
	Extensions(ctx context.Context, assignment string) ([]Extension, error)
	// SetOverride sets a student's points on one exercise of an
	// assignment, replacing any override before, and records it in the
	// audit log, in one transaction. ErrNotFound if the assignment or the
	// person does not exist.
	SetOverride(ctx context.Context, o Override, detail string) error
	// Overrides returns an assignment's overrides, by user and exercise.
	Overrides(ctx context.Context, assignment string) ([]Override, error)
	// Audit records e in the audit log.
	Audit(ctx context.Context, e AuditEntry) error
	// AuditLog returns the audit entries about subject, oldest first.
	AuditLog(ctx context.Context, subject string) ([]AuditEntry, error)
	// Submissions returns the submissions made for an assignment, by one
	// person (user) or everyone (""), oldest first, without Code and
	// Result. Staff's regrades of them (Run.Regrades) are among them.
	Submissions(ctx context.Context, assignment, user string) ([]*Run, error)
}
