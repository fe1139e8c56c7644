package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// courseRow is one student's line of a course's gradebook: a grade per
// assignment, in the course's order.
type courseRow struct {
	member      labs.RosterEntry
	grades      []labs.Grade
	total       float64
	submissions int
	last        time.Time
}

// courseBook grades every student of the course at p on every assignment,
// in roster order, from one read of the roster.
func (s *Server) courseBook(r *http.Request, p *place) ([]*labs.Assignment, []courseRow, error) {
	as, err := s.cfg.Store.Assignments(r.Context(), p.course.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("grades of %s: %w", p.course.ID, err)
	}
	members, err := s.cfg.Store.Members(r.Context(), p.course.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("grades of %s: %w", p.course.ID, err)
	}
	var rows []courseRow
	index := map[string]int{}
	for _, m := range members {
		if m.Role == labs.CourseStudent {
			index[m.User] = len(rows)
			rows = append(rows, courseRow{member: m})
		}
	}
	for _, a := range as {
		book, err := s.gradebookOf(r, members, a)
		if err != nil {
			return nil, nil, err
		}
		for _, b := range book {
			row := &rows[index[b.member.User]]
			row.grades = append(row.grades, b.grade)
			row.total += b.grade.Earned
			row.submissions += b.grade.Submissions
			if b.grade.Last.After(row.last) {
				row.last = b.grade.Last
			}
		}
	}
	return as, rows, nil
}

// serveCourseGradebook is a course's gradebook, for its staff: each
// student's points on each assignment (late credit and overrides
// applied), their total, submissions and last activity; sortable, and
// filtered by section.
func (s *Server) serveCourseGradebook(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.staff {
		return errorf(KindNotFound, "There are no grades here.")
	}
	as, rows, err := s.courseBook(r, p)
	if err != nil {
		return err
	}
	loc := courseLocation(p.course)
	v := templates.CourseGradesView{ID: p.course.ID, Name: p.course.Name, Section: r.URL.Query().Get("section"), Sort: r.URL.Query().Get("sort")}
	for _, a := range as {
		v.Columns = append(v.Columns, templates.ExerciseChoice{Slug: a.ID, Title: a.Title, Points: a.Points()})
		v.Points += a.Points()
	}
	for _, row := range rows {
		if sec := row.member.Section; sec != "" && !slices.Contains(v.Sections, sec) {
			v.Sections = append(v.Sections, sec)
		}
	}
	sort.Strings(v.Sections)
	switch v.Sort {
	case "total":
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].total > rows[j].total })
	case "last":
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].last.After(rows[j].last) })
	default:
		v.Sort = "name"
	}
	for _, row := range rows {
		if v.Section != "" && row.member.Section != v.Section {
			continue
		}
		gr := templates.GradeRow{ID: row.member.User, Name: row.member.Name, Email: row.member.Email, Section: row.member.Section,
			Total: points(row.total), Submissions: row.submissions}
		if !row.last.IsZero() {
			gr.Last = row.last.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
		}
		for _, g := range row.grades {
			c := templates.GradeCell{Earned: points(g.Earned)}
			for _, it := range g.Items {
				c.Late = c.Late || it.Run != "" && it.Credit < 100
				c.Overridden = c.Overridden || it.Override != nil
			}
			gr.Cells = append(gr.Cells, c)
		}
		v.Rows = append(v.Rows, gr)
	}
	return render(w, r, templates.CourseGrades(v, s.hostStatus()))
}

// serveCourseGrades exports a course's gradebook as CSV, in a form a
// learning management system imports: one row per student, one column per
// assignment, then the total.
func (s *Server) serveCourseGrades(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.staff {
		return errorf(KindNotFound, "There are no grades here.")
	}
	as, rows, err := s.courseBook(r, p)
	if err != nil {
		return err
	}
	header := []string{"name", "email", "section"}
	total := 0
	for _, a := range as {
		header = append(header, fmt.Sprintf("%s (%d)", csvSafe(a.Title), a.Points()))
		total += a.Points()
	}
	header = append(header, "total ("+strconv.Itoa(total)+")")
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(header)
	for _, row := range rows {
		line := []string{csvSafe(row.member.Name), row.member.Email, csvSafe(row.member.Section)}
		for _, g := range row.grades {
			line = append(line, points(g.Earned))
		}
		cw.Write(append(line, points(row.total)))
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "grades-"+p.course.ID+".csv"))
	w.Header().Set("Cache-Control", "no-store")
	buf.WriteTo(w)
	return nil
}
