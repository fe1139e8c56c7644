package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// standing is an assignment as the viewer stands in it.
type standing struct {
	a     *labs.Assignment
	place *place
	loc   *time.Location // the course's time zone
	due   time.Time      // the viewer's due time, an extension's if they have one
}

// assignmentStanding loads assignment id and where the viewer stands in
// it. An assignment of a course the viewer is not in does not exist for
// them.
func (s *Server) assignmentStanding(r *http.Request, id string) (*standing, error) {
	a, err := s.cfg.Store.Assignment(r.Context(), id)
	if errors.Is(err, labs.ErrNotFound) {
		return nil, errorf(KindNotFound, "There is no assignment %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("assignment %s: %w", id, err)
	}
	p, err := s.placeIn(r, a.Course)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == KindNotFound {
			return nil, errorf(KindNotFound, "There is no assignment %q.", id)
		}
		return nil, err
	}
	return s.standingIn(r, a, p)
}

// standingIn is the viewer's standing in a, an assignment of the course
// where they stand at p.
func (s *Server) standingIn(r *http.Request, a *labs.Assignment, p *place) (*standing, error) {
	due, err := s.dueOf(r, a, viewer(r).ID)
	if err != nil {
		return nil, err
	}
	return &standing{a: a, place: p, loc: courseLocation(p.course), due: due}, nil
}

// dueOf is user's due time for a: their extension's, or the assignment's.
func (s *Server) dueOf(r *http.Request, a *labs.Assignment, user string) (time.Time, error) {
	exts, err := s.cfg.Store.Extensions(r.Context(), a.ID)
	if err != nil {
		return time.Time{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	for _, e := range exts {
		if e.User == user {
			return e.Due, nil
		}
	}
	return a.Due, nil
}

// managed is the assignment the URL names, for a change only the
// course's instructors make (what, as in "grant extensions"); the form is
// read and checked.
func (s *Server) managed(w http.ResponseWriter, r *http.Request, what string) (*standing, error) {
	if viewer(r) == nil {
		return nil, errorf(KindUnauthorized, "Sign in first.")
	}
	st, err := s.assignmentStanding(r, chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	if !st.place.manage {
		return nil, errorf(KindForbidden, "Only the course's instructors can %s.", what)
	}
	if err := readForm(w, r); err != nil {
		return nil, err
	}
	return st, nil
}

// studentByEmail returns the student of course with the email, or nil if
// the course has no such student.
func (s *Server) studentByEmail(r *http.Request, course, email string) (*labs.User, error) {
	u, err := s.cfg.Store.UserByEmail(r.Context(), labs.NormalEmail(email))
	var m *labs.Member
	if err == nil {
		m, err = s.cfg.Store.Member(r.Context(), course, u.ID)
	}
	switch {
	case errors.Is(err, labs.ErrNotFound) || err == nil && m.Role != labs.CourseStudent:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("student of %s: %w", course, err)
	}
	return u, nil
}

func courseLocation(c *labs.Course) *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// when shows t in the course's time zone.
func (st *standing) when(t time.Time) string { return t.In(st.loc).Format("Mon 2 Jan 2006 15:04 MST") }

// state says what a submission made now earns.
func (st *standing) state(now time.Time) string {
	a := st.a
	switch closes := a.Closes(st.due); {
	case now.Before(a.Opens):
		return "not open yet: it opens " + st.when(a.Opens)
	case !now.After(st.due):
		return "open: due " + st.when(st.due)
	case !now.After(closes):
		return fmt.Sprintf("late: a submission now earns %d%% of its score, until %s", a.Credit(now, st.due), st.when(closes))
	default:
		return "closed since " + st.when(closes) + ": submissions no longer count"
	}
}

// checkSubmission refuses a submission for an assignment that the viewer
// may not make now: not in the course, an exercise it does not ask for,
// outside its dates, or past the cap. The caller holds s.submitting.
func (s *Server) checkSubmission(r *http.Request, run *labs.Run, id string) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in to submit for an assignment.")
	}
	if run.Mode != labs.ModeSubmit {
		return errorf(KindInvalid, "Only a submission counts for an assignment; a run is practice.")
	}
	st, err := s.assignmentStanding(r, id)
	if err != nil {
		return err
	}
	if _, ok := st.a.Item(run.Exercise); !ok {
		return errorf(KindInvalid, "The assignment %q does not ask for this exercise.", st.a.Title)
	}
	now := run.Created
	if now.Before(st.a.Opens) || now.After(st.a.Closes(st.due)) {
		return errorf(KindForbidden, "Nothing was submitted: %s.", st.state(now))
	}
	if st.a.MaxSubmissions > 0 {
		subs, err := s.cfg.Store.Submissions(r.Context(), id, run.Client)
		if err != nil {
			return fmt.Errorf("submissions of %s: %w", id, err)
		}
		used := 0
		for _, r := range subs {
			if r.Exercise == run.Exercise && r.Status != labs.StatusInterrupted && r.Regrades == "" {
				used++
			}
		}
		if used >= st.a.MaxSubmissions {
			return errorf(KindLimit, "Nothing was submitted: you have used all %d submissions of this exercise for %q.", st.a.MaxSubmissions, st.a.Title)
		}
	}
	return nil
}

// forAssignment is the banner of an exercise page opened for an
// assignment; the zero value when it is not one the viewer submits for.
func (s *Server) forAssignment(r *http.Request, id, exercise string) templates.ForAssignment {
	if id == "" || viewer(r) == nil {
		return templates.ForAssignment{}
	}
	st, err := s.assignmentStanding(r, id)
	if err != nil {
		return templates.ForAssignment{}
	}
	if _, ok := st.a.Item(exercise); !ok {
		return templates.ForAssignment{}
	}
	state := st.state(s.cfg.Now())
	if st.a.MaxSubmissions > 0 {
		subs, err := s.cfg.Store.Submissions(r.Context(), id, viewer(r).ID)
		if err == nil {
			g := labs.GradeOf(st.a, st.due, subs, nil) // only the count of submissions matters here
			for _, it := range g.Items {
				if it.Exercise == exercise {
					state += fmt.Sprintf(", %d of %d submissions left", max(0, st.a.MaxSubmissions-it.Submissions), st.a.MaxSubmissions)
				}
			}
		}
	}
	return templates.ForAssignment{ID: st.a.ID, Title: st.a.Title, State: state}
}

func newAssignmentID() string { return "a-" + randomHex(6) }

func (s *Server) serveNewAssignment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.manage {
		return errorf(KindForbidden, "Only the course's instructors can make assignments.")
	}
	return s.renderAssignmentForm(w, r, p, nil, http.StatusOK, "")
}

// formTime is t as a datetime-local field shows it, in loc.
const formTime = "2006-01-02T15:04"

// renderAssignmentForm shows the form for a new assignment (a nil) or for
// editing a; after a refused post, with what was posted.
func (s *Server) renderAssignmentForm(w http.ResponseWriter, r *http.Request, p *place, a *labs.Assignment, code int, msg string) error {
	v := templates.AssignmentFormView{CourseID: p.course.ID, CourseName: p.course.Name, TimeZone: p.course.TimeZone,
		Scoring: string(labs.ScoreBest), Feedback: string(labs.FeedbackAll), Error: msg, CSRF: csrfToken(w, r)}
	loc := courseLocation(p.course)
	points := map[string]int{}
	if a != nil {
		v.ID, v.Title, v.Scoring, v.Feedback, v.Max = a.ID, a.Title, string(a.Scoring), string(a.Feedback), a.MaxSubmissions
		v.Opens, v.Due = a.Opens.In(loc).Format(formTime), a.Due.In(loc).Format(formTime)
		var late []string
		for _, lw := range a.Late {
			late = append(late, fmt.Sprintf("%s %d", strconv.FormatFloat(lw.Within.Hours(), 'f', -1, 64), lw.Credit))
		}
		v.Late = strings.Join(late, "\n")
		for _, it := range a.Items {
			points[it.Exercise] = it.Points
		}
	}
	posted := r.Method == http.MethodPost
	if posted {
		f := r.PostFormValue
		v.Title, v.Opens, v.Due, v.Late, v.Scoring, v.Feedback = f("title"), f("opens"), f("due"), f("late"), f("scoring"), f("feedback")
		v.Max, _ = strconv.Atoi(f("max"))
		clear(points)
		for _, slug := range r.PostForm["exercise"] {
			points[slug], _ = strconv.Atoi(f("points-" + slug))
		}
	}
	for _, ex := range s.cfg.Exercises {
		c := templates.ExerciseChoice{Slug: ex.Slug, Title: ex.Title, Points: ex.MaxScore()}
		if pts, ok := points[ex.Slug]; ok {
			c.Points, c.Picked = pts, true
		} else if posted {
			if n, err := strconv.Atoi(r.PostFormValue("points-" + ex.Slug)); err == nil {
				c.Points = n
			}
		}
		v.Exercises = append(v.Exercises, c)
	}
	return renderStatus(w, r, code, templates.NewAssignment(v, s.hostStatus()))
}

// parseLate reads late windows, "hours credit" a line.
func parseLate(text string) ([]labs.LateWindow, error) {
	var out []labs.LateWindow
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), "%"))
		if len(f) == 0 {
			continue
		}
		hours, err1 := strconv.ParseFloat(f[0], 64)
		credit := 0
		var err2 error
		if len(f) == 2 {
			credit, err2 = strconv.Atoi(strings.TrimSuffix(f[1], "%"))
		}
		if len(f) != 2 || err1 != nil || err2 != nil || hours <= 0 || hours > 24*365 || credit < 0 || credit > 100 {
			return nil, fmt.Errorf("late window line %d is not \"hours credit\", such as \"24 80\"", i+1)
		}
		w := labs.LateWindow{Within: time.Duration(hours * float64(time.Hour)), Credit: credit}
		if len(out) > 0 && w.Within <= out[len(out)-1].Within {
			return nil, fmt.Errorf("late window line %d must end after the one before", i+1)
		}
		out = append(out, w)
	}
	return out, nil
}

// readAssignmentForm sets what the form asks of a (its title, exercises,
// dates, late windows, scoring, cap and feedback), in the course's time
// zone loc, and says what is wrong with it, or "".
func (s *Server) readAssignmentForm(r *http.Request, loc *time.Location, a *labs.Assignment) string {
	a.Title = strings.TrimSpace(r.PostFormValue("title"))
	a.Scoring, a.Feedback = labs.Scoring(r.PostFormValue("scoring")), labs.Feedback(r.PostFormValue("feedback"))
	if a.Feedback == "" {
		a.Feedback = labs.FeedbackAll
	}
	if a.Title == "" || len(a.Title) > 200 {
		return "Give the assignment a title."
	}
	a.Items = nil
	for _, slug := range r.PostForm["exercise"] {
		ex, err := s.exercise(slug)
		if err != nil {
			return fmt.Sprintf("There is no exercise %q.", slug)
		}
		points, err := strconv.Atoi(r.PostFormValue("points-" + slug))
		if err != nil || points < 0 || points > 1000 {
			return fmt.Sprintf("The points of %s are a whole number from 0 to 1000.", ex.Title)
		}
		a.Items = append(a.Items, labs.AssignmentItem{Exercise: slug, Points: points})
	}
	if len(a.Items) == 0 {
		return "Pick at least one exercise."
	}
	var err error
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"opens", &a.Opens}, {"due", &a.Due}} {
		if *f.t, err = time.ParseInLocation(formTime, r.PostFormValue(f.name), loc); err != nil {
			return fmt.Sprintf("The %s time is not a date and time.", f.name)
		}
	}
	if a.Due.Before(a.Opens) {
		return "The due time is before the opening."
	}
	if a.Late, err = parseLate(r.PostFormValue("late")); err != nil {
		return err.Error() + "."
	}
	if a.Scoring != labs.ScoreBest && a.Scoring != labs.ScoreLast {
		return "Either the best or the last submission counts."
	}
	if a.MaxSubmissions, err = strconv.Atoi(r.PostFormValue("max")); err != nil || a.MaxSubmissions < 0 || a.MaxSubmissions > 1000 {
		return "The cap is a whole number from 0 (none) to 1000."
	}
	if a.Feedback != labs.FeedbackAll && a.Feedback != labs.FeedbackPassFail {
		return "Feedback is every check, or only pass or fail until the due time."
	}
	return ""
}

// serveCreateAssignment makes an assignment from the form.
func (s *Server) serveCreateAssignment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.manage {
		return errorf(KindForbidden, "Only the course's instructors can make assignments.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	a := &labs.Assignment{ID: newAssignmentID(), Course: p.course.ID, Created: s.cfg.Now()}
	if msg := s.readAssignmentForm(r, courseLocation(p.course), a); msg != "" {
		return s.renderAssignmentForm(w, r, p, nil, http.StatusBadRequest, msg)
	}
	if err := s.cfg.Store.CreateAssignment(r.Context(), a); err != nil {
		return fmt.Errorf("create assignment: %w", err)
	}
	s.log.Info("assignment created", "assignment", a.ID, "course", a.Course, "by", viewer(r).ID)
	http.Redirect(w, r, "/assignments/"+a.ID, http.StatusSeeOther)
	return nil
}

// serveEditAssignment is the form that edits an assignment.
func (s *Server) serveEditAssignment(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	st, err := s.assignmentStanding(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	if !st.place.manage {
		return errorf(KindForbidden, "Only the course's instructors can edit assignments.")
	}
	return s.renderAssignmentForm(w, r, st.place, st.a, http.StatusOK, "")
}

// serveUpdateAssignment saves an edited assignment and records what
// changed in its audit log. Grades follow: they are worked out from the
// submissions whenever they are shown.
func (s *Server) serveUpdateAssignment(w http.ResponseWriter, r *http.Request) error {
	st, err := s.managed(w, r, "edit assignments")
	if err != nil {
		return err
	}
	a := *st.a
	if msg := s.readAssignmentForm(r, st.loc, &a); msg != "" {
		return s.renderAssignmentForm(w, r, st.place, st.a, http.StatusBadRequest, msg)
	}
	changes := assignmentChanges(st, st.a, &a)
	if len(changes) == 0 {
		http.Redirect(w, r, "/assignments/"+a.ID, http.StatusSeeOther)
		return nil
	}
	if err := s.cfg.Store.UpdateAssignment(r.Context(), &a); err != nil {
		return fmt.Errorf("edit assignment %s: %w", a.ID, err)
	}
	by := viewer(r)
	e := labs.AuditEntry{At: s.cfg.Now(), By: by.ID, Subject: a.ID, Action: "edit",
		Detail: by.Name + " edited the assignment: " + strings.Join(changes, "; ")}
	if err := s.cfg.Store.Audit(r.Context(), e); err != nil {
		return fmt.Errorf("edit assignment %s: saved, but not audited: %w", a.ID, err)
	}
	s.log.Info("assignment edited", "assignment", a.ID, "by", by.ID, "changes", len(changes))
	http.Redirect(w, r, "/assignments/"+a.ID, http.StatusSeeOther)
	return nil
}

// assignmentChanges says in words what differs from a to b.
func assignmentChanges(st *standing, a, b *labs.Assignment) []string {
	var out []string
	diff := func(what, from, to string) {
		if from != to {
			out = append(out, fmt.Sprintf("%s %s → %s", what, from, to))
		}
	}
	items := func(a *labs.Assignment) string {
		var l []string
		for _, it := range a.Items {
			l = append(l, fmt.Sprintf("%s %d", it.Exercise, it.Points))
		}
		return strings.Join(l, ", ")
	}
	late := func(a *labs.Assignment) string {
		var l []string
		for _, lw := range a.Late {
			l = append(l, fmt.Sprintf("%d%% up to %s", lw.Credit, lw.Within))
		}
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, ", ")
	}
	diff("title", strconv.Quote(a.Title), strconv.Quote(b.Title))
	diff("exercises", items(a), items(b))
	diff("opens", st.when(a.Opens), st.when(b.Opens))
	diff("due", st.when(a.Due), st.when(b.Due))
	diff("late windows", late(a), late(b))
	diff("counts", string(a.Scoring), string(b.Scoring))
	diff("cap", strconv.Itoa(a.MaxSubmissions), strconv.Itoa(b.MaxSubmissions))
	diff("feedback", string(a.Feedback), string(b.Feedback))
	return out
}

// serveAssignment is a student's standing in an assignment, or its
// gradebook for the course's staff.
func (s *Server) serveAssignment(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	st, err := s.assignmentStanding(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return s.renderAssignment(w, r, st, http.StatusOK, "")
}

func (s *Server) renderAssignment(w http.ResponseWriter, r *http.Request, st *standing, code int, msg string) error {
	a := st.a
	v := templates.AssignmentView{ID: a.ID, Title: a.Title, CourseID: st.place.course.ID, CourseName: st.place.course.Name,
		Opens: st.when(a.Opens), Due: st.when(st.due), Closes: st.when(a.Closes(st.due)), Scoring: "the " + string(a.Scoring),
		State: st.state(s.cfg.Now()), Points: a.Points(), Staff: st.place.staff, Manage: st.place.manage, Error: msg,
		CSRF: csrfToken(w, r), Me: viewer(r).ID}
	for _, lw := range a.Late {
		v.Late = append(v.Late, fmt.Sprintf("%d%% credit up to %s after", lw.Credit, lw.Within))
	}
	if !st.place.staff {
		subs, err := s.cfg.Store.Submissions(r.Context(), a.ID, viewer(r).ID)
		if err != nil {
			return fmt.Errorf("assignment %s: %w", a.ID, err)
		}
		overrides, err := s.overridesOf(r, a.ID, viewer(r).ID)
		if err != nil {
			return err
		}
		g := labs.GradeOf(a, st.due, subs, overrides)
		hide := a.Feedback == labs.FeedbackPassFail && s.cfg.Now().Before(st.due)
		for _, it := range g.Items {
			iv := templates.AssignmentItemView{Slug: it.Exercise, Title: s.exerciseTitle(it.Exercise), Points: it.Points,
				Earned: points(it.Earned), Run: it.Run, Credit: it.Credit, Used: it.Submissions, Left: "no cap"}
			if hide {
				iv.Earned = passFail(it)
			}
			if it.Override != nil {
				iv.Note = "set by your course's staff: " + it.Override.Comment
			}
			if a.MaxSubmissions > 0 {
				iv.Left = fmt.Sprintf("%d left", max(0, a.MaxSubmissions-it.Submissions))
			}
			v.Items = append(v.Items, iv)
		}
		v.Earned = points(g.Earned)
		if hide {
			v.Hidden = true
			v.State += "; until then, only whether each exercise passed shows"
		}
	} else {
		book, err := s.gradebook(r, st.place.course, a)
		if err != nil {
			return err
		}
		log, err := s.cfg.Store.AuditLog(r.Context(), a.ID)
		if err != nil {
			return fmt.Errorf("assignment %s: %w", a.ID, err)
		}
		for _, e := range log {
			v.Audit = append(v.Audit, templates.AuditItem{At: st.when(e.At), Action: e.Action, Detail: e.Detail})
		}
		regrades, err := s.cfg.Store.Regrades(r.Context(), a.ID)
		if err != nil {
			return fmt.Errorf("assignment %s: %w", a.ID, err)
		}
		for _, g := range regrades {
			v.Regrades = append(v.Regrades, templates.RegradeLink{ID: g.ID, At: st.when(g.At), Scope: g.Scope})
		}
		for _, it := range a.Items {
			v.Columns = append(v.Columns, templates.ExerciseChoice{Slug: it.Exercise, Title: s.exerciseTitle(it.Exercise), Points: it.Points})
		}
		v.Section, v.Sort = r.URL.Query().Get("section"), r.URL.Query().Get("sort")
		for _, row := range book {
			if !slices.Contains(v.Sections, row.member.Section) && row.member.Section != "" {
				v.Sections = append(v.Sections, row.member.Section)
			}
		}
		sort.Strings(v.Sections)
		switch v.Sort {
		case "total":
			sort.SliceStable(book, func(i, j int) bool { return book[i].grade.Earned > book[j].grade.Earned })
		case "last":
			sort.SliceStable(book, func(i, j int) bool { return book[i].grade.Last.After(book[j].grade.Last) })
		default:
			v.Sort = "name"
		}
		for _, row := range book {
			if v.Section != "" && row.member.Section != v.Section {
				continue
			}
			gr := templates.GradeRow{ID: row.member.User, Name: row.member.Name, Email: row.member.Email, Section: row.member.Section,
				Total: points(row.grade.Earned), Submissions: row.grade.Submissions}
			if !row.grade.Last.IsZero() {
				gr.Last = st.when(row.grade.Last)
			}
			if !row.due.Equal(a.Due) {
				gr.Extension = st.when(row.due)
			}
			for _, it := range row.grade.Items {
				gr.Cells = append(gr.Cells, templates.GradeCell{Earned: points(it.Earned), Run: it.Run, Late: it.Run != "" && it.Credit < 100,
					Overridden: it.Override != nil})
			}
			v.Rows = append(v.Rows, gr)
		}
	}
	return renderStatus(w, r, code, templates.AssignmentPage(v, s.hostStatus()))
}

// points shows earned points with two decimals.
func points(p float64) string { return strconv.FormatFloat(p, 'f', 2, 64) }

func (s *Server) exerciseTitle(slug string) string {
	if ex, err := s.exercise(slug); err == nil {
		return ex.Title
	}
	return slug
}

// bookRow is one student's line of a gradebook.
type bookRow struct {
	member labs.RosterEntry
	due    time.Time
	runs   []*labs.Run // the student's submissions and their regrades, oldest first
	grade  labs.Grade
}

// gradebook grades every student of course on a, in roster order, from
// one read of the assignment's submissions.
func (s *Server) gradebook(r *http.Request, course *labs.Course, a *labs.Assignment) ([]bookRow, error) {
	members, err := s.cfg.Store.Members(r.Context(), course.ID)
	if err != nil {
		return nil, fmt.Errorf("gradebook of %s: %w", a.ID, err)
	}
	return s.gradebookOf(r, members, a)
}

// gradebookOf is gradebook for a course whose members are already read.
func (s *Server) gradebookOf(r *http.Request, members []labs.RosterEntry, a *labs.Assignment) ([]bookRow, error) {
	ctx := r.Context()
	subs, err := s.cfg.Store.Submissions(ctx, a.ID, "")
	if err != nil {
		return nil, fmt.Errorf("gradebook of %s: %w", a.ID, err)
	}
	exts, err := s.cfg.Store.Extensions(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("gradebook of %s: %w", a.ID, err)
	}
	overrides, err := s.cfg.Store.Overrides(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("gradebook of %s: %w", a.ID, err)
	}
	overridden := map[string][]labs.Override{}
	for _, o := range overrides {
		overridden[o.User] = append(overridden[o.User], o)
	}
	byUser := map[string][]*labs.Run{}
	for _, run := range subs {
		byUser[run.Client] = append(byUser[run.Client], run)
	}
	dues := map[string]time.Time{}
	for _, e := range exts {
		dues[e.User] = e.Due
	}
	var book []bookRow
	for _, m := range members {
		if m.Role != labs.CourseStudent {
			continue
		}
		due, ok := dues[m.User]
		if !ok {
			due = a.Due
		}
		runs := byUser[m.User]
		book = append(book, bookRow{member: m, due: due, runs: runs, grade: labs.GradeOf(a, due, runs, overridden[m.User])})
	}
	return book, nil
}

// serveExtension gives a student of the course another due time.
func (s *Server) serveExtension(w http.ResponseWriter, r *http.Request) error {
	st, err := s.managed(w, r, "grant extensions")
	if err != nil {
		return err
	}
	due, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("due"), st.loc)
	if err != nil {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "The new due time is not a date and time.")
	}
	u, err := s.studentByEmail(r, st.a.Course, r.PostFormValue("email"))
	if err != nil {
		return err
	}
	if u == nil {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "No student of this course has that email.")
	}
	if err := s.cfg.Store.SetExtension(r.Context(), labs.Extension{Assignment: st.a.ID, User: u.ID, Due: due}); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	by := viewer(r)
	if err := s.cfg.Store.Audit(r.Context(), labs.AuditEntry{At: s.cfg.Now(), By: by.ID, Subject: st.a.ID, Action: "extension",
		Detail: fmt.Sprintf("%s gave %s (%s) until %s", by.Name, u.Name, u.Email, st.when(due))}); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	s.log.Info("extension granted", "assignment", st.a.ID, "user", u.ID, "due", due, "by", viewer(r).ID)
	http.Redirect(w, r, "/assignments/"+st.a.ID, http.StatusSeeOther)
	return nil
}

// home lists a signed-in person's courses and the assignments they can
// still submit for, soonest due first, with their score so far.
func (s *Server) home(r *http.Request) (templates.Home, error) {
	var h templates.Home
	u := viewer(r)
	if u == nil {
		return h, nil
	}
	ctx := r.Context()
	es, err := s.cfg.Store.Enrolments(ctx, u.ID)
	if err != nil {
		return h, fmt.Errorf("home: %w", err)
	}
	now := s.cfg.Now()
	type open struct {
		closes time.Time
		item   templates.OpenAssignment
	}
	var opens []open
	for _, e := range es {
		h.Courses = append(h.Courses, templates.CourseItem{ID: e.ID, Name: e.Name, Term: e.Term, Role: string(e.Role), Section: e.Section})
		if e.Role != labs.CourseStudent {
			continue
		}
		as, err := s.cfg.Store.Assignments(ctx, e.ID)
		if err != nil {
			return h, fmt.Errorf("home: %w", err)
		}
		// The enrolment is the viewer's place in the course: no need to
		// read the course and the membership again for each assignment.
		p := &place{course: &e.Course, member: &labs.Member{Course: e.ID, User: u.ID, Role: e.Role, Section: e.Section}}
		for _, a := range as {
			st, err := s.standingIn(r, a, p)
			if err != nil {
				return h, err
			}
			closes := a.Closes(st.due)
			if now.After(closes) {
				continue
			}
			subs, err := s.cfg.Store.Submissions(ctx, a.ID, u.ID)
			if err != nil {
				return h, fmt.Errorf("home: %w", err)
			}
			overrides, err := s.overridesOf(r, a.ID, u.ID)
			if err != nil {
				return h, err
			}
			g := labs.GradeOf(a, st.due, subs, overrides)
			score := points(g.Earned) + " / " + strconv.Itoa(g.Points)
			if a.Feedback == labs.FeedbackPassFail && now.Before(st.due) {
				score = "after the due time"
			}
			opens = append(opens, open{closes, templates.OpenAssignment{ID: a.ID, Title: a.Title, Course: e.Name,
				Due: st.when(st.due), State: st.state(now), Score: score}})
		}
	}
	sort.SliceStable(opens, func(i, j int) bool { return opens[i].closes.Before(opens[j].closes) })
	for _, o := range opens {
		h.Assignments = append(h.Assignments, o.item)
	}
	return h, nil
}

// overridesOf returns the overrides of one student on an assignment.
func (s *Server) overridesOf(r *http.Request, assignment, user string) ([]labs.Override, error) {
	all, err := s.cfg.Store.Overrides(r.Context(), assignment)
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", assignment, err)
	}
	var mine []labs.Override
	for _, o := range all {
		if o.User == user {
			mine = append(mine, o)
		}
	}
	return mine, nil
}

// serveOverride sets a student's points on one exercise, with the reason
// they will see, and keeps the change in the audit log.
func (s *Server) serveOverride(w http.ResponseWriter, r *http.Request) error {
	st, err := s.managed(w, r, "override a score")
	if err != nil {
		return err
	}
	exercise, comment := r.PostFormValue("exercise"), strings.TrimSpace(r.PostFormValue("comment"))
	item, ok := st.a.Item(exercise)
	if !ok {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "Pick one of the assignment's exercises.")
	}
	pts, err := strconv.ParseFloat(r.PostFormValue("points"), 64)
	if err != nil || pts < 0 || pts > float64(item.Points) {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, fmt.Sprintf("The points are a number from 0 to %d.", item.Points))
	}
	if comment == "" || len(comment) > 1000 {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "Say why, for the student: a comment is required.")
	}
	u, err := s.studentByEmail(r, st.a.Course, r.PostFormValue("email"))
	if err != nil {
		return err
	}
	if u == nil {
		return s.renderAssignment(w, r, st, http.StatusBadRequest, "No student of this course has that email.")
	}
	// What the student had before, for the audit log.
	subs, err := s.cfg.Store.Submissions(r.Context(), st.a.ID, u.ID)
	if err != nil {
		return fmt.Errorf("override: %w", err)
	}
	overrides, err := s.overridesOf(r, st.a.ID, u.ID)
	if err != nil {
		return err
	}
	due, err := s.dueOf(r, st.a, u.ID)
	if err != nil {
		return err
	}
	before := 0.0
	for _, it := range labs.GradeOf(st.a, due, subs, overrides).Items {
		if it.Exercise == exercise {
			before = it.Earned
		}
	}
	by := viewer(r)
	o := labs.Override{Assignment: st.a.ID, User: u.ID, Exercise: exercise, Points: pts, Comment: comment, By: by.ID, At: s.cfg.Now()}
	detail := fmt.Sprintf("%s set %s (%s) on %s to %s of %d, was %s: %s", by.Name, u.Name, u.Email, exercise, points(pts), item.Points, points(before), comment)
	if err := s.cfg.Store.SetOverride(r.Context(), o, detail); err != nil {
		return fmt.Errorf("override: %w", err)
	}
	s.log.Info("score overridden", "assignment", st.a.ID, "user", u.ID, "exercise", exercise, "by", by.ID)
	http.Redirect(w, r, "/assignments/"+st.a.ID, http.StatusSeeOther)
	return nil
}

// passFail is what a student sees of an item before the due time of an
// assignment that shows only pass or fail.
func passFail(it labs.ItemGrade) string {
	switch {
	case it.Run == "" && it.Override == nil:
		return "not submitted"
	case it.Earned >= float64(it.Points):
		return "passed"
	default:
		return "not passed yet"
	}
}
