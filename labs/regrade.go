package labs

import (
	"context"
	"fmt"
	"time"
)

// Regrade is staff grading submissions of an assignment again, after an
// exercise changed: one submission, one student's, or every one. Each
// submission gets a new run (Run.Regrades names it) that, once done,
// stands in for it in the gradebook; the first grading stays, so both can
// be replayed and compared.
type Regrade struct {
	ID         string
	Assignment string
	Scope      string // what was regraded, in words: "every submission", "ana@uni.edu's submissions"
	By         string // the staff member who asked
	At         time.Time
	Items      []RegradeItem
	// Before is each regraded student's assignment total when the regrade
	// began, the "before" of its diff.
	Before map[string]float64
}

// RegradeItem is one submission of a regrade.
type RegradeItem struct {
	Submission string // the submission graded again
	Run        string // the regrade's run of it
	User       string
	Exercise   string
	// BeforeScore and BeforeMax are what the submission scored when the
	// regrade began (its latest finished regrade's score, if it had one).
	BeforeScore, BeforeMax int
}

// RegradeStore keeps regrades. Errors wrap [ErrNotFound], [ErrInvalid] or
// [ErrConflict] where one applies. It is safe for concurrent use.
type RegradeStore interface {
	// CreateRegrade stores g and records it in the audit log with
	// detail, in one transaction. ErrConflict if its ID is taken;
	// ErrNotFound if its assignment does not exist.
	CreateRegrade(ctx context.Context, g *Regrade, detail string) error
	// Regrade returns the regrade with id.
	Regrade(ctx context.Context, id string) (*Regrade, error)
	// Regrades returns an assignment's regrades, newest first.
	Regrades(ctx context.Context, assignment string) ([]*Regrade, error)
}

// Effective returns the submissions among runs that a student made, in
// order, each replaced by the latest of its regrades that is done: the
// run that stands for it. The replacement keeps the submission's time, so
// a regrade changes what a submission scored, never how late it was.
func Effective(runs []*Run) []*Run {
	latest := map[string]*Run{}
	for _, r := range runs {
		if r.Regrades == "" || r.Status != StatusDone {
			continue
		}
		if l := latest[r.Regrades]; l == nil || r.Created.After(l.Created) || r.Created.Equal(l.Created) && r.ID > l.ID {
			latest[r.Regrades] = r
		}
	}
	var out []*Run
	for _, r := range runs {
		if r.Regrades != "" {
			continue
		}
		if l := latest[r.ID]; l != nil {
			stand := *l
			stand.Created = r.Created
			r = &stand
		}
		out = append(out, r)
	}
	return out
}

// Validate says what is missing from a regrade before it is stored.
func (g *Regrade) Validate() error {
	switch {
	case g.ID == "" || g.Assignment == "":
		return fmt.Errorf("%w: a regrade needs an id and an assignment", ErrInvalid)
	case g.By == "" || g.At.IsZero():
		return fmt.Errorf("%w: a regrade needs who asked and when", ErrInvalid)
	case len(g.Items) == 0:
		return fmt.Errorf("%w: a regrade needs a submission to grade again", ErrInvalid)
	}
	for _, it := range g.Items {
		if it.Submission == "" || it.Run == "" || it.User == "" {
			return fmt.Errorf("%w: a regrade item needs a submission, a run and a student", ErrInvalid)
		}
	}
	return nil
}
