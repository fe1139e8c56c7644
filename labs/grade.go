package labs

import "time"

// ItemGrade is what a student earned on one exercise of an assignment.
type ItemGrade struct {
	Exercise    string
	Points      int     // what the item is worth
	Earned      float64 // of Points, late credit applied
	Run         string  // the submission that counts; "" if none does
	Credit      int     // that submission's late credit, in percent
	Submissions int     // submissions of the exercise, interrupted ones left out
	// Override, when set, is the staff's word on the item: Earned is its
	// points, whatever the submissions earned.
	Override *Override
}

// Grade is what a student earned on an assignment.
type Grade struct {
	Items       []ItemGrade // in the assignment's order
	Earned      float64
	Points      int
	Submissions int
	Last        time.Time // the latest submission; zero if none
}

// GradeOf grades one student's runs for a, due being their due time (an
// extension's, or the assignment's). Of each exercise's submissions that
// were graded (done, with a maximum) and made while they earned credit,
// the best or the last counts, as a.Scoring says: its score scaled to the
// item's points, times its late credit. A submission the server could not
// grade (interrupted) neither counts nor uses up the cap. An override of
// the item (overrides are the student's) replaces what it earned. A
// submission that staff regraded counts with its regrade's score (see
// [Effective]).
func GradeOf(a *Assignment, due time.Time, runs []*Run, overrides []Override) Grade {
	g := Grade{Points: a.Points()}
	runs = Effective(runs)
	for _, it := range a.Items {
		ig := ItemGrade{Exercise: it.Exercise, Points: it.Points}
		var counted *Run
		for _, r := range runs {
			if r.Exercise != it.Exercise || r.Mode != ModeSubmit || r.Status == StatusInterrupted {
				continue
			}
			ig.Submissions++
			if r.Created.After(g.Last) {
				g.Last = r.Created
			}
			credit := a.Credit(r.Created, due)
			if r.Status != StatusDone || r.Max <= 0 || credit == 0 {
				continue
			}
			earned := float64(it.Points) * float64(r.Score) / float64(r.Max) * float64(credit) / 100
			better := counted == nil
			switch {
			case better:
			case a.Scoring == ScoreLast:
				better = r.Created.After(counted.Created) || r.Created.Equal(counted.Created) && r.ID > counted.ID
			default:
				better = earned > ig.Earned
			}
			if better {
				counted, ig.Earned, ig.Run, ig.Credit = r, earned, r.ID, credit
			}
		}
		for i := range overrides {
			if o := &overrides[i]; o.Exercise == it.Exercise {
				ig.Override, ig.Earned = o, o.Points
			}
		}
		g.Items = append(g.Items, ig)
		g.Earned += ig.Earned
		g.Submissions += ig.Submissions
	}
	return g
}
