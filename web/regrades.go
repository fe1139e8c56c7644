package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// maxRegrade is the most submissions one regrade grades again: a class
// of 300 with 20 submissions of each of 10 exercises, with room.
const maxRegrade = 100_000

// outcome says in words what became of a run.
func outcome(run *labs.Run) string {
	switch run.Status {
	case labs.StatusQueued:
		return "in line"
	case labs.StatusRunning:
		return "being graded"
	case labs.StatusInterrupted:
		return "could not be graded: " + run.Reason
	}
	if run.Max <= 0 {
		return run.Verdict
	}
	return fmt.Sprintf("%d / %d (%s)", run.Score, run.Max, run.Verdict)
}

// standsFor maps each submission's id to the run that stands for it now:
// itself, or its latest finished regrade.
func standsFor(subs []*labs.Run) map[string]*labs.Run {
	m := map[string]*labs.Run{}
	for _, e := range labs.Effective(subs) {
		if e.Regrades != "" {
			m[e.Regrades] = e
		} else {
			m[e.ID] = e
		}
	}
	return m
}

// serveRegrade grades submissions of an assignment again, after an
// exercise changed: one submission (scope=submission, run=id), one
// student's (scope=student, user=id) or every one (scope=all). Each gets
// a new run that stands in for it once graded; the regrade's page shows
// the scores before and after.
func (s *Server) serveRegrade(w http.ResponseWriter, r *http.Request) error {
	st, err := s.managed(w, r, "regrade submissions")
	if err != nil {
		return err
	}
	if err := s.grading(); err != nil {
		return err
	}
	ctx, a := r.Context(), st.a
	book, err := s.gradebook(r, st.place.course, a)
	if err != nil {
		return err
	}
	// The students' submissions, in the order they were made.
	students := map[string]bookRow{}
	var subs []*labs.Run
	for _, row := range book {
		students[row.member.User] = row
		subs = append(subs, row.runs...)
	}
	sort.SliceStable(subs, func(i, j int) bool {
		return subs[i].Created.Before(subs[j].Created) || subs[i].Created.Equal(subs[j].Created) && subs[i].ID < subs[j].ID
	})
	var scope string
	var pick func(*labs.Run) bool
	switch r.PostFormValue("scope") {
	case "all":
		scope, pick = "every submission", func(*labs.Run) bool { return true }
	case "student":
		row, ok := students[r.PostFormValue("user")]
		if !ok {
			return s.renderAssignment(w, r, st, http.StatusBadRequest, "The course has no such student to regrade.")
		}
		scope = fmt.Sprintf("the submissions of %s (%s)", row.member.Name, row.member.Email)
		pick = func(run *labs.Run) bool { return run.Client == row.member.User }
	case "submission":
		id := r.PostFormValue("run")
		scope, pick = "submission "+id, func(run *labs.Run) bool { return run.ID == id }
	default:
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "Say what to regrade: every submission, a student's, or one.")
	}

	stands := standsFor(subs)
	now := s.cfg.Now()
	g := &labs.Regrade{ID: newRegradeID(), Assignment: a.ID, Scope: scope, By: viewer(r).ID, At: now, Before: map[string]float64{}}
	ids := map[string]bool{}
	for _, run := range subs {
		// Only what was graded is graded again: an interrupted
		// submission never counted, and one in line is not done yet.
		if run.Regrades != "" || run.Status != labs.StatusDone || !pick(run) {
			continue
		}
		id := labs.NewRunID(now)
		for ids[id] {
			id = labs.NewRunID(now)
		}
		ids[id] = true
		was := stands[run.ID]
		g.Items = append(g.Items, labs.RegradeItem{Submission: run.ID, Run: id, User: run.Client, Exercise: run.Exercise,
			BeforeScore: was.Score, BeforeMax: was.Max})
		g.Before[run.Client] = students[run.Client].grade.Earned
	}
	switch {
	case len(g.Items) == 0:
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "There is nothing to regrade: only a student's submissions that were graded can be graded again.")
	case len(g.Items) > maxRegrade:
		return s.renderAssignment(w, r, st, http.StatusBadRequest, fmt.Sprintf("That is %d submissions; regrade at most %d at once, a student at a time.", len(g.Items), maxRegrade))
	}
	by := viewer(r)
	detail := fmt.Sprintf("%s regraded %s: %d submission(s) of %d student(s)", by.Name, scope, len(g.Items), len(g.Before))
	if err := s.cfg.Store.CreateRegrade(ctx, g, detail); err != nil {
		return fmt.Errorf("regrade %s: %w", a.ID, err)
	}
	// The regrade is recorded; its runs are queued whatever happens to
	// this request now. One that cannot be queued shows on its page.
	bg := context.WithoutCancel(ctx)
	queued := 0
	for _, it := range g.Items {
		if err := s.startRegrade(bg, a, it); err != nil {
			s.log.Error("regrade: a submission could not be queued", "regrade", g.ID, "submission", it.Submission, "err", err)
			continue
		}
		queued++
	}
	s.log.Info("regrade started", "assignment", a.ID, "regrade", g.ID, "submissions", len(g.Items), "queued", queued, "by", by.ID)
	http.Redirect(w, r, "/regrades/"+g.ID, http.StatusSeeOther)
	return nil
}

func newRegradeID() string { return "rg-" + randomHex(8) }

// startRegrade queues the run of one regrade item: the submission's own
// code, graded as a submission of its student, in their line.
func (s *Server) startRegrade(ctx context.Context, a *labs.Assignment, it labs.RegradeItem) error {
	sub, err := s.cfg.Store.Run(ctx, it.Submission)
	if err != nil {
		return err
	}
	run := &labs.Run{ID: it.Run, Exercise: sub.Exercise, Mode: labs.ModeSubmit, Client: sub.Client, Assignment: a.ID,
		Regrades: sub.ID, Code: sub.Code, Backends: sub.Backends, Scenarios: sub.Scenarios, Created: s.cfg.Now()}
	return s.runs.start(ctx, run)
}

// serveRegradePage shows a regrade to its course's staff: each submission
// before and after, and each student's total then and now. It refreshes
// itself until every run is graded.
func (s *Server) serveRegradePage(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	ctx, id := r.Context(), chi.URLParam(r, "id")
	notFound := errorf(KindNotFound, "There is no regrade %q.", id)
	g, err := s.cfg.Store.Regrade(ctx, id)
	if errors.Is(err, labs.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("regrade %s: %w", id, err)
	}
	st, err := s.assignmentStanding(r, g.Assignment)
	if err != nil {
		return err
	}
	if !st.place.staff {
		return notFound
	}
	book, err := s.gradebook(r, st.place.course, st.a)
	if err != nil {
		return err
	}
	subs, err := s.cfg.Store.Submissions(ctx, st.a.ID, "")
	if err != nil {
		return fmt.Errorf("regrade %s: %w", id, err)
	}
	runs := map[string]*labs.Run{}
	for _, run := range subs {
		runs[run.ID] = run
	}
	rows := map[string]bookRow{}
	for _, row := range book {
		rows[row.member.User] = row
	}
	by := g.By
	if u, err := s.cfg.Store.User(ctx, g.By); err == nil {
		by = u.Name
	}
	v := templates.RegradeView{ID: g.ID, AssignmentID: st.a.ID, AssignmentTitle: st.a.Title, CourseID: st.place.course.ID,
		CourseName: st.place.course.Name, Scope: g.Scope, By: by, At: st.when(g.At), Total: len(g.Items), Finished: true}
	for _, it := range g.Items {
		row := rows[it.User]
		iv := templates.RegradeItemView{User: it.User, Student: row.member.Name, Email: row.member.Email, Exercise: s.exerciseTitle(it.Exercise),
			Submission: it.Submission, Run: it.Run, Before: fmt.Sprintf("%d / %d", it.BeforeScore, it.BeforeMax)}
		if sub := runs[it.Submission]; sub != nil {
			iv.Submitted = st.when(sub.Created)
		}
		switch run := runs[it.Run]; {
		case run == nil:
			iv.After, iv.Run = "never queued: the server could not put it in line; regrade it again", ""
		case !run.Status.Finished():
			iv.After, v.Finished = outcome(run), false
		default:
			v.Graded++
			iv.After = outcome(run)
			if run.Status == labs.StatusDone {
				// As a share of each grading's maximum: a changed exercise
				// may have changed its maximum too.
				d := math.Round(100*share(run.Score, run.Max)) - math.Round(100*share(it.BeforeScore, it.BeforeMax))
				iv.Changed = d != 0
				iv.Change = fmt.Sprintf("%+.0f%%", d)
				if iv.Changed {
					v.Changed++
				}
			}
		}
		v.Items = append(v.Items, iv)
	}
	for user, before := range g.Before {
		row := rows[user]
		d := row.grade.Earned - before
		v.Totals = append(v.Totals, templates.RegradeTotal{User: user, Student: row.member.Name, Email: row.member.Email,
			Before: points(before), Now: points(row.grade.Earned), Change: signedPoints(d), Changed: points(d) != points(0)})
	}
	sort.Slice(v.Totals, func(i, j int) bool {
		return strings.ToLower(v.Totals[i].Student) < strings.ToLower(v.Totals[j].Student)
	})
	if !v.Finished {
		// A page the staff leave open keeps up with the queue.
		w.Header().Set("Refresh", "3")
	}
	return render(w, r, templates.RegradePage(v, s.hostStatus()))
}

// share is score of max, 0 when there is no maximum.
func share(score, max int) float64 {
	if max <= 0 {
		return 0
	}
	return float64(score) / float64(max)
}

// signedPoints shows a change of points with its sign.
func signedPoints(d float64) string {
	if d >= 0 {
		return "+" + points(d)
	}
	return points(d)
}
