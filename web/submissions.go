package web

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// serveSubmissions shows every submission a student made for an
// assignment: when, what it scored, its late credit, which one counts, and
// links to replay and compare each. The course's staff see any student's
// and the regrades; a student sees only their own.
func (s *Server) serveSubmissions(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	st, err := s.assignmentStanding(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	ctx, a, user := r.Context(), st.a, chi.URLParam(r, "user")
	notFound := errorf(KindNotFound, "There is no such student's work here.")
	if !st.place.staff && user != viewer(r).ID {
		return notFound
	}
	m, err := s.cfg.Store.Member(ctx, a.Course, user)
	if err != nil || m.Role != labs.CourseStudent {
		return notFound
	}
	u, err := s.cfg.Store.User(ctx, user)
	if err != nil {
		return fmt.Errorf("submissions of %s: %w", user, err)
	}
	subs, err := s.cfg.Store.Submissions(ctx, a.ID, user)
	if err != nil {
		return fmt.Errorf("submissions of %s: %w", user, err)
	}
	overrides, err := s.overridesOf(r, a.ID, user)
	if err != nil {
		return err
	}
	due, err := s.dueOf(r, a, user)
	if err != nil {
		return err
	}
	counted := map[string]bool{}
	for _, it := range labs.GradeOf(a, due, subs, overrides).Items {
		counted[it.Run] = true
	}
	v := templates.SubmissionsView{ID: a.ID, Title: a.Title, CourseID: st.place.course.ID, CourseName: st.place.course.Name,
		User: user, Student: u.Name, Email: u.Email, Staff: st.place.staff, Manage: st.place.manage,
		Hidden: !st.place.staff && a.Feedback == labs.FeedbackPassFail && s.cfg.Now().Before(due), CSRF: csrfToken(w, r)}
	stands := standsFor(subs)
	regrades := map[string][]*labs.Run{}
	for _, run := range subs {
		if run.Regrades != "" {
			regrades[run.Regrades] = append(regrades[run.Regrades], run)
		}
	}
	previous := map[string]string{} // exercise → the submission before
	for _, run := range subs {
		if run.Regrades != "" {
			continue
		}
		row := templates.SubmissionRow{Run: run.ID, Exercise: run.Exercise, Title: s.exerciseTitle(run.Exercise), At: st.when(run.Created),
			Outcome: outcome(run), Credit: a.Credit(run.Created, due), Previous: previous[run.Exercise]}
		previous[run.Exercise] = run.ID
		row.Predicted, row.Actual = s.predictionText(run)
		stand := stands[run.ID]
		row.Counted = stand != nil && counted[stand.ID]
		if v.Hidden {
			row.Outcome = hiddenOutcome(run)
		}
		for _, g := range regrades[run.ID] {
			rr := templates.RegradeRun{Run: g.ID, At: st.when(g.Created), Outcome: outcome(g), Stands: stand != nil && stand.ID == g.ID}
			if v.Hidden {
				rr.Outcome = hiddenOutcome(g)
			}
			row.Regrades = append(row.Regrades, rr)
		}
		v.Submissions = append(v.Submissions, row)
	}
	return render(w, r, templates.SubmissionsPage(v, s.hostStatus()))
}

// hiddenOutcome is what a student sees of a run while an assignment shows
// only whether each submission passed.
func hiddenOutcome(run *labs.Run) string {
	switch {
	case run.Status != labs.StatusDone:
		return outcome(run)
	case run.Max > 0 && run.Score == run.Max:
		return "passed"
	default:
		return "not passed"
	}
}

// predictionText is run's prediction and the real answer its run gave, in
// words; both "" when the student made none.
func (s *Server) predictionText(run *labs.Run) (predicted, actual string) {
	ex, err := s.exercise(run.Exercise)
	predictedA, ok := answerOf(run.Prediction)
	if err != nil || ex.Predict == nil || !ok {
		return "", ""
	}
	actual = "not known yet"
	if a, ok := answerOf(run.Actual); ok {
		actual = ex.Predict.Format(a)
	} else if run.Status.Finished() {
		actual = "not shown by the run"
	}
	return ex.Predict.Format(predictedA), actual
}
