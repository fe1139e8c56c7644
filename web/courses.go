package web

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// MaxRoster is the most people one roster import adds.
const MaxRoster = 2000

// joinAlphabet makes join codes a student can read aloud and type: no 0/O
// or 1/I.
const joinAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newJoinCode() string {
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = joinAlphabet[int(b[i])%len(joinAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func newCourseID() string { return "c-" + randomHex(6) }

// place is the viewer's relation to a course they are in.
type place struct {
	course *labs.Course
	member *labs.Member
	staff  bool // sees the roster and the students' work
	manage bool // changes the roster and the assignments
}

// coursePlace loads the course the URL names and where the viewer stands
// in it. A course the viewer is not in does not exist for them, an
// instructor of the instance included: a course's students are its
// staff's to see.
func (s *Server) coursePlace(r *http.Request) (*place, error) {
	return s.placeIn(r, chi.URLParam(r, "id"))
}

// placeIn is coursePlace for the course id.
func (s *Server) placeIn(r *http.Request, id string) (*place, error) {
	u := viewer(r)
	if u == nil {
		return nil, errorf(KindUnauthorized, "Sign in first.")
	}
	notFound := errorf(KindNotFound, "There is no course %q.", id)
	c, err := s.cfg.Store.Course(r.Context(), id)
	if errors.Is(err, labs.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", id, err)
	}
	m, err := s.cfg.Store.Member(r.Context(), id, u.ID)
	if errors.Is(err, labs.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", id, err)
	}
	return &place{course: c, member: m, staff: m.Role.Staff(), manage: m.Role == labs.CourseInstructor}, nil
}

func (s *Server) serveCourses(w http.ResponseWriter, r *http.Request) error {
	u := viewer(r)
	if u == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	return s.renderCourses(w, r, http.StatusOK, "")
}

func (s *Server) renderCourses(w http.ResponseWriter, r *http.Request, code int, msg string) error {
	u := viewer(r)
	v := templates.CoursesView{CanCreate: u.Role == labs.RoleInstructor, Error: msg, CSRF: csrfToken(w, r)}
	es, err := s.cfg.Store.Enrolments(r.Context(), u.ID)
	if err != nil {
		return fmt.Errorf("courses: %w", err)
	}
	for _, e := range es {
		v.Courses = append(v.Courses, templates.CourseItem{ID: e.ID, Name: e.Name, Term: e.Term, Role: string(e.Role), Section: e.Section})
	}
	return renderStatus(w, r, code, templates.Courses(v, s.hostStatus()))
}

// serveCreateCourse makes a course with the instructor as its instructor.
func (s *Server) serveCreateCourse(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	name, term, tz := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("term")), strings.TrimSpace(r.PostFormValue("tz"))
	if name == "" || len(name) > 200 || term == "" || len(term) > 100 {
		return s.renderCourses(w, r, http.StatusBadRequest, "Give the course a name and a term.")
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		return s.renderCourses(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a time zone; use an IANA name such as Europe/Paris or America/New_York.", tz))
	}
	c := &labs.Course{ID: newCourseID(), Name: name, Term: term, TimeZone: tz, JoinCode: newJoinCode(), Created: s.cfg.Now()}
	if err := s.cfg.Store.CreateCourse(r.Context(), c, viewer(r).ID); err != nil {
		return fmt.Errorf("create course: %w", err)
	}
	s.log.Info("course created", "course", c.ID, "by", viewer(r).ID)
	http.Redirect(w, r, "/courses/"+c.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) serveCourse(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	return s.renderCourse(w, r, p, http.StatusOK, nil, "")
}

func (s *Server) renderCourse(w http.ResponseWriter, r *http.Request, p *place, code int, imp *templates.ImportSummary, msg string) error {
	c := p.course
	v := templates.CourseView{ID: c.ID, Name: c.Name, Term: c.Term, TimeZone: c.TimeZone, Staff: p.staff, Manage: p.manage,
		Import: imp, Error: msg, CSRF: csrfToken(w, r)}
	v.Role, v.Section = string(p.member.Role), p.member.Section
	as, err := s.cfg.Store.Assignments(r.Context(), c.ID)
	if err != nil {
		return fmt.Errorf("course %s: %w", c.ID, err)
	}
	loc := courseLocation(c)
	for _, a := range as {
		v.Assignments = append(v.Assignments, templates.AssignmentLink{ID: a.ID, Title: a.Title,
			Due: a.Due.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), Points: a.Points()})
	}
	if p.staff {
		v.JoinCode, v.JoinURL = c.JoinCode, baseURL(r)+"/join?code="+c.JoinCode
		members, err := s.cfg.Store.Members(r.Context(), c.ID)
		if err != nil {
			return fmt.Errorf("course %s: %w", c.ID, err)
		}
		for _, m := range members {
			v.Members = append(v.Members, templates.MemberItem{Name: m.Name, Email: m.Email, Role: string(m.Role), Section: m.Section,
				Joined: m.Joined.Format("2006-01-02")})
		}
	}
	w.Header().Set("Cache-Control", "no-store") // it may show links
	return renderStatus(w, r, code, templates.CoursePage(v, s.hostStatus()))
}

// baseURL is the lab's address as the request reached it.
func baseURL(r *http.Request) string {
	if secure(r) {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// rosterRow is one line of a roster CSV.
type rosterRow struct{ name, email, section string }

// parseRoster reads a roster CSV: name, email and an optional section per
// line, a header line skipped. It reads all of it before anything is
// stored, so that a mistake on line 40 stores nothing.
func parseRoster(text string) ([]rosterRow, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var rows []rosterRow
	seen := map[string]int{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the CSV does not parse: %v", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if line == 1 && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "name") && strings.EqualFold(strings.TrimSpace(rec[1]), "email") {
			continue
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, fmt.Errorf("line %d has %d fields; each line is name, email and, if any, section", line, len(rec))
		}
		row := rosterRow{name: strings.TrimSpace(rec[0]), email: labs.NormalEmail(rec[1])}
		if len(rec) == 3 {
			row.section = strings.TrimSpace(rec[2])
		}
		switch {
		case row.name == "" || len(row.name) > 200:
			return nil, fmt.Errorf("line %d has no name", line)
		case !strings.Contains(row.email, "@") || len(row.email) > 254:
			return nil, fmt.Errorf("line %d: %q is not an email address", line, rec[1])
		case len(row.section) > 50:
			return nil, fmt.Errorf("line %d: the section is longer than 50 characters", line)
		case seen[row.email] > 0:
			return nil, fmt.Errorf("line %d repeats %s, first on line %d", line, row.email, seen[row.email])
		}
		seen[row.email] = line
		rows = append(rows, row)
		if len(rows) > MaxRoster {
			return nil, fmt.Errorf("a roster has at most %d people", MaxRoster)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the CSV has no one in it")
	}
	return rows, nil
}

// serveImportRoster adds a roster's people to the course as students:
// accounts for those who have none, each with a one-time link, and their
// sections. Importing the same roster again changes nothing but the
// sections; staff of the course stay staff.
func (s *Server) serveImportRoster(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.manage {
		return errorf(KindForbidden, "Only the course's instructors can change its roster.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	rows, err := parseRoster(r.PostFormValue("csv"))
	if err != nil {
		return s.renderCourse(w, r, p, http.StatusBadRequest, nil, "Nothing was imported: "+err.Error()+".")
	}
	ctx := r.Context()
	now := s.cfg.Now()
	imp := &templates.ImportSummary{Expires: now.Add(linkTTL).UTC().Format("2006-01-02 15:04 UTC")}
	for _, row := range rows {
		u, err := s.cfg.Store.UserByEmail(ctx, row.email)
		if errors.Is(err, labs.ErrNotFound) {
			u = &labs.User{ID: newUserID(), Email: row.email, Name: row.name, Role: labs.RoleStudent, Created: now}
			err = s.cfg.Store.CreateUser(ctx, u)
		}
		if err != nil {
			return fmt.Errorf("import roster of %s: %s: %w", p.course.ID, row.email, err)
		}
		role := labs.CourseStudent
		switch m, err := s.cfg.Store.Member(ctx, p.course.ID, u.ID); {
		case err == nil:
			imp.Updated++
			role = m.Role // a TA in the roster stays a TA
		case errors.Is(err, labs.ErrNotFound):
			imp.Added++
		default:
			return fmt.Errorf("import roster of %s: %w", p.course.ID, err)
		}
		if err := s.cfg.Store.SetMember(ctx, labs.Member{Course: p.course.ID, User: u.ID, Role: role, Section: row.section, Joined: now}); err != nil {
			return fmt.Errorf("import roster of %s: %w", p.course.ID, err)
		}
		if u.Password == "" {
			token, hash := newToken()
			if err := s.cfg.Store.CreateLink(ctx, &labs.Link{ID: hash, Purpose: labs.LinkPassword, User: u.ID, Created: now, Expires: now.Add(linkTTL)}); err != nil {
				return fmt.Errorf("import roster of %s: link for %s: %w", p.course.ID, u.ID, err)
			}
			imp.Issued = append(imp.Issued, templates.IssuedRow{Name: u.Name, Email: u.Email, URL: baseURL(r) + "/link/" + token})
		}
	}
	s.log.Info("roster imported", "course", p.course.ID, "added", imp.Added, "updated", imp.Updated, "links", len(imp.Issued), "by", viewer(r).ID)
	return s.renderCourse(w, r, p, http.StatusOK, imp, "")
}

// serveExportRoster answers the roster as CSV: name, email, section and
// role, one line per member, in the order of the course page.
func (s *Server) serveExportRoster(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.staff {
		return errorf(KindNotFound, "There is no roster here.")
	}
	members, err := s.cfg.Store.Members(r.Context(), p.course.ID)
	if err != nil {
		return fmt.Errorf("export roster of %s: %w", p.course.ID, err)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"name", "email", "section", "role"})
	for _, m := range members {
		cw.Write([]string{csvSafe(m.Name), m.Email, csvSafe(m.Section), string(m.Role)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "roster-"+p.course.ID+".csv"))
	w.Header().Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(w)
	return err
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a name a
// student typed could begin with "=".
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// serveSetMember adds someone who has an account to the course, or
// changes their role and section.
func (s *Server) serveSetMember(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.manage {
		return errorf(KindForbidden, "Only the course's instructors can change its members.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	role := labs.CourseRole(r.PostFormValue("role"))
	section := strings.TrimSpace(r.PostFormValue("section"))
	if !role.Valid() || len(section) > 50 {
		return s.renderCourse(w, r, p, http.StatusBadRequest, nil, "The role is student, TA or instructor, and a section has at most 50 characters.")
	}
	u, err := s.cfg.Store.UserByEmail(r.Context(), labs.NormalEmail(r.PostFormValue("email")))
	if errors.Is(err, labs.ErrNotFound) {
		return s.renderCourse(w, r, p, http.StatusBadRequest, nil, "Nobody has an account with that email; add them on People, or import them with a roster.")
	}
	if err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	if err := s.cfg.Store.SetMember(r.Context(), labs.Member{Course: p.course.ID, User: u.ID, Role: role, Section: section, Joined: s.cfg.Now()}); err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	s.log.Info("member set", "course", p.course.ID, "user", u.ID, "role", role, "by", viewer(r).ID)
	http.Redirect(w, r, "/courses/"+p.course.ID, http.StatusSeeOther)
	return nil
}

// serveNewJoinCode replaces the course's join code.
func (s *Server) serveNewJoinCode(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.manage {
		return errorf(KindForbidden, "Only the course's instructors can change its join code.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	if err := s.cfg.Store.SetJoinCode(r.Context(), p.course.ID, newJoinCode()); err != nil {
		return fmt.Errorf("new join code: %w", err)
	}
	http.Redirect(w, r, "/courses/"+p.course.ID, http.StatusSeeOther)
	return nil
}

// normalCode is a join code as stored: upper case, without spaces.
func normalCode(code string) string {
	return strings.ToUpper(strings.Join(strings.Fields(code), ""))
}

func (s *Server) serveJoinPage(w http.ResponseWriter, r *http.Request) error {
	v := templates.JoinView{Code: normalCode(r.URL.Query().Get("code")), SignedIn: viewer(r) != nil, CSRF: csrfToken(w, r)}
	if v.Code != "" {
		if c, err := s.cfg.Store.CourseByJoinCode(r.Context(), v.Code); err == nil {
			v.CourseName, v.Term = c.Name, c.Term
		}
	}
	return render(w, r, templates.Join(v, s.hostStatus()))
}

// serveJoin adds the viewer to the course a join code opens, as a
// student; someone without an account makes one on the way, which only a
// course's code allows.
func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	u := viewer(r)
	v := templates.JoinView{Code: normalCode(r.PostFormValue("code")), SignedIn: u != nil, CSRF: csrfToken(w, r),
		Name: strings.TrimSpace(r.PostFormValue("name")), Email: labs.NormalEmail(r.PostFormValue("email"))}
	fail := func(code int, msg string) error {
		v.Error = msg
		return renderStatus(w, r, code, templates.Join(v, s.hostStatus()))
	}
	// Guessing codes is signing in by another door: the same limit.
	if !s.signIns.allow(remoteHost(r)) {
		return fail(http.StatusTooManyRequests, "Too many tries. Wait a few minutes and try again.")
	}
	c, err := s.cfg.Store.CourseByJoinCode(r.Context(), v.Code)
	if errors.Is(err, labs.ErrNotFound) {
		return fail(http.StatusNotFound, "No course has that code. Check it with your instructor.")
	}
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	v.CourseName, v.Term = c.Name, c.Term
	now := s.cfg.Now()
	if u == nil {
		pw := r.PostFormValue("password")
		switch {
		case v.Name == "" || len(v.Name) > 200 || !strings.Contains(v.Email, "@") || len(v.Email) > 254:
			return fail(http.StatusBadRequest, "Give your name and your email address.")
		case len(pw) < MinPassword || len(pw) > MaxPassword:
			return fail(http.StatusBadRequest, fmt.Sprintf("A password has %d to %d characters.", MinPassword, MaxPassword))
		}
		hash, err := hashPassword(r.Context(), pw)
		if err != nil {
			return err
		}
		u = &labs.User{ID: newUserID(), Email: v.Email, Name: v.Name, Role: labs.RoleStudent, Password: hash, Created: now}
		err = s.cfg.Store.CreateUser(r.Context(), u)
		if errors.Is(err, labs.ErrConflict) {
			return fail(http.StatusConflict, "An account has this email already: sign in first, then use the code.")
		}
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		if err := s.signIn(w, r, u); err != nil {
			return err
		}
	}
	switch _, err := s.cfg.Store.Member(r.Context(), c.ID, u.ID); {
	case err == nil:
		// Already in the course, as whatever they are.
	case errors.Is(err, labs.ErrNotFound):
		if err := s.cfg.Store.SetMember(r.Context(), labs.Member{Course: c.ID, User: u.ID, Role: labs.CourseStudent, Joined: now}); err != nil {
			return fmt.Errorf("join %s: %w", c.ID, err)
		}
		s.log.Info("joined a course", "course", c.ID, "user", u.ID)
	default:
		return fmt.Errorf("join %s: %w", c.ID, err)
	}
	http.Redirect(w, r, "/courses/"+c.ID, http.StatusSeeOther)
	return nil
}
