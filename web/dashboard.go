package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// serveDashboard is an assignment's class dashboard: per exercise, who
// submitted, what the counted submissions earn, how long a full score
// took, and which checks the students' latest submissions fail most.
func (s *Server) serveDashboard(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	st, err := s.assignmentStanding(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	if !st.place.staff {
		return errorf(KindNotFound, "There is no dashboard here.")
	}
	a := st.a
	book, err := s.gradebook(r, st.place.course, a)
	if err != nil {
		return err
	}
	// What stands for each student's submissions, in time order.
	effective := make([][]*labs.Run, len(book))
	for i, row := range book {
		effective[i] = labs.Effective(row.runs)
	}
	v := templates.DashboardView{ID: a.ID, Title: a.Title, CourseID: st.place.course.ID, CourseName: st.place.course.Name, Students: len(book)}
	for i, it := range a.Items {
		e := templates.ExerciseDashboard{Slug: it.Exercise, Title: s.exerciseTitle(it.Exercise), Points: it.Points}
		counts := make([]int, 10)
		for _, row := range book {
			ig := row.grade.Items[i]
			if ig.Submissions > 0 {
				e.Submitted++
			}
			if ig.Run == "" && ig.Override == nil {
				continue
			}
			tenth := 0
			if it.Points > 0 {
				tenth = min(9, int(10*ig.Earned/float64(it.Points)))
			}
			counts[tenth]++
		}
		widest := 1
		for _, c := range counts {
			widest = max(widest, c)
		}
		for k, c := range counts {
			e.Histogram = append(e.Histogram, templates.Bucket{Label: fmt.Sprintf("%d–%d%%", 10*k, 10*k+10), Count: c, Width: 100 * c / widest})
		}
		// Each student's first full score, and their latest graded
		// submission, from the submissions in time order.
		first := map[string]time.Time{}
		latest := map[string]*labs.Run{}
		for _, runs := range effective {
			for _, run := range runs {
				if run.Exercise != it.Exercise || run.Status != labs.StatusDone {
					continue
				}
				if _, ok := first[run.Client]; !ok && run.Max > 0 && run.Score == run.Max {
					first[run.Client] = run.Created
				}
				latest[run.Client] = run
			}
		}
		e.Passed = len(first)
		if len(first) > 0 {
			var took []time.Duration
			for _, t := range first {
				took = append(took, t.Sub(a.Opens))
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			e.FirstPass = took[len(took)/2].Round(time.Minute).String()
		}
		e.Failing, e.Lints, err = s.classTallies(r, latest)
		if err != nil {
			return err
		}
		v.Exercises = append(v.Exercises, e)
	}
	return render(w, r, templates.Dashboard(v, s.hostStatus()))
}

// lintTitles say what each lint means, for the dashboard.
var lintTitles = map[trace.LintCode]string{
	trace.LintLongHandler:    "a callback held the loop too long",
	trace.LintHeadOfLine:     "a ready callback waited behind a long one",
	trace.LintDeadlock:       "a blocking wait on the loop's own thread",
	trace.LintBlockingCall:   "a blocking system call on the loop thread",
	trace.LintPendingConnect: "a connect in progress used as if connected",
	trace.LintOffLoop:        "loop-owned state touched from another thread",
}

// classTallies counts, over each student's latest graded submission, the
// checks that failed and the lints that fired (each once per student), most
// first, with one run for each.
func (s *Server) classTallies(r *http.Request, latest map[string]*labs.Run) (checks, lints []templates.FailingCheck, err error) {
	type tally struct {
		title   string
		count   int
		example string
	}
	failed, fired := map[string]*tally{}, map[string]*tally{}
	count := func(m map[string]*tally, key, title, run string) {
		t := m[key]
		if t == nil {
			t = &tally{title: title, example: run}
			m[key] = t
		}
		t.count++
	}
	users := make([]string, 0, len(latest))
	for u := range latest {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		run, err := s.cfg.Store.Run(r.Context(), latest[u].ID)
		if err != nil {
			return nil, nil, fmt.Errorf("dashboard: %w", err)
		}
		var res grading.Result
		if len(run.Result) == 0 || json.Unmarshal(run.Result, &res) != nil {
			continue
		}
		for _, c := range res.Checks {
			if !c.Passed && c.Status != exercises.StatusNotReached {
				count(failed, c.ID, c.Title, run.ID)
			}
		}
		seen := map[trace.LintCode]bool{}
		for _, sum := range res.Runs {
			for _, f := range sum.Findings {
				if !seen[f.Code] {
					seen[f.Code] = true
					title := lintTitles[f.Code]
					if title == "" {
						title = f.Code.String()
					}
					count(fired, f.Code.String(), title+" ("+f.Code.String()+")", run.ID)
				}
			}
		}
	}
	sorted := func(m map[string]*tally) []templates.FailingCheck {
		var out []templates.FailingCheck
		for _, t := range m {
			out = append(out, templates.FailingCheck{Title: t.title, Count: t.count, Example: t.example})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Count != out[j].Count {
				return out[i].Count > out[j].Count
			}
			return out[i].Title < out[j].Title
		})
		return out
	}
	return sorted(failed), sorted(fired), nil
}
