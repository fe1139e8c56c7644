package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/asynclab/asynclab/labs"
)

// viewAsCookie names the student a course's staff member is viewing the
// lab as. It grants nothing by itself: each request checks that the
// signed-in person teaches that student.
const viewAsCookie = "lab_view_as"

type actingKey struct{}

// acting returns the staff member viewing the lab as the request's
// viewer, or nil when the viewer is themselves.
func acting(r *http.Request) *labs.User {
	u, _ := r.Context().Value(actingKey{}).(*labs.User)
	return u
}

// viewingAs returns the student u is viewing the lab as, if the request
// asks for one and u teaches them.
func (s *Server) viewingAs(r *http.Request, u *labs.User) *labs.User {
	c, err := r.Cookie(viewAsCookie)
	if err != nil || c.Value == "" || c.Value == u.ID {
		return nil
	}
	ok, err := s.cfg.Store.Teaches(r.Context(), u.ID, c.Value)
	if err != nil || !ok {
		return nil
	}
	student, err := s.cfg.Store.User(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return student
}

// readOnlyWhenViewingAs refuses every change while a staff member views
// the lab as a student: they see the student's pages, and act for no one.
func (s *Server) readOnlyWhenViewingAs(next http.Handler) http.Handler {
	refuse := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(KindForbidden, "You are viewing the lab as %s, read-only. Stop viewing as them to make changes.", viewer(r).Name)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acting(r) != nil && r.Method != http.MethodGet && r.Method != http.MethodHead && r.URL.Path != "/view-as/stop" {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveViewAs starts viewing the lab as one of the viewer's students.
func (s *Server) serveViewAs(w http.ResponseWriter, r *http.Request) error {
	u := viewer(r)
	if u == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	id := r.PostFormValue("user")
	ok, err := s.cfg.Store.Teaches(r.Context(), u.ID, id)
	if err != nil {
		return fmt.Errorf("view as %s: %w", id, err)
	}
	if !ok {
		return errorf(KindNotFound, "You teach no such student.")
	}
	if _, err := s.cfg.Store.User(r.Context(), id); errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "You teach no such student.")
	} else if err != nil {
		return fmt.Errorf("view as %s: %w", id, err)
	}
	http.SetCookie(w, &http.Cookie{Name: viewAsCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	s.log.Info("viewing as a student", "user", u.ID, "student", id)
	http.Redirect(w, r, localNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

// serveStopViewingAs goes back to the staff member's own view.
func (s *Server) serveStopViewingAs(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: viewAsCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r), MaxAge: -1})
	http.Redirect(w, r, "/courses", http.StatusSeeOther)
	return nil
}
