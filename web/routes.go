package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// routes returns the router of every page, API call and asset. HEAD is
// answered wherever GET is.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestLog, middleware.Recoverer, middleware.GetHead, securityHeaders, s.identify, s.lockdown, s.readOnlyWhenViewingAs)
	r.Get("/", s.handle(s.serveCatalogue))
	r.Get("/signin", s.handle(s.serveSignInPage))
	r.With(s.requireFormCSRF).Post("/signin", s.handle(s.serveSignIn))
	r.With(s.requireFormCSRF).Post("/signout", s.handle(s.serveSignOut))
	r.Get("/link/{token}", s.handle(s.serveLinkPage))
	r.With(s.requireFormCSRF).Post("/link/{token}", s.handle(s.serveLink))
	r.Get("/people", s.handle(s.servePeople))
	r.With(s.requireFormCSRF).Post("/people", s.handle(s.serveAddPerson))
	r.With(s.requireFormCSRF).Post("/people/{id}/link", s.handle(s.serveNewLink))
	r.Get("/settings", s.handle(s.serveSettings))
	r.With(s.requireFormCSRF).Post("/settings", s.handle(s.serveSaveSettings))
	r.Get("/courses", s.handle(s.serveCourses))
	r.With(s.requireFormCSRF).Post("/courses", s.handle(s.serveCreateCourse))
	r.Get("/courses/{id}", s.handle(s.serveCourse))
	r.With(s.requireFormCSRF).Post("/courses/{id}/roster", s.handle(s.serveImportRoster))
	r.Get("/courses/{id}/roster.csv", s.handle(s.serveExportRoster))
	r.With(s.requireFormCSRF).Post("/courses/{id}/members", s.handle(s.serveSetMember))
	r.With(s.requireFormCSRF).Post("/courses/{id}/joincode", s.handle(s.serveNewJoinCode))
	r.With(s.requireFormCSRF).Post("/watch", s.handle(s.serveStartWatch))
	r.Get("/courses/{id}/watch", s.handle(s.serveWatchPage))
	r.With(s.requireFormCSRF).Post("/courses/{id}/watch/end", s.handle(s.serveEndWatch))
	r.Get("/ws/courses/{id}/watch", s.handle(s.serveWatchSocket))
	r.Get("/api/watching", s.handle(s.serveWatching))
	r.Get("/courses/{id}/assignments/new", s.handle(s.serveNewAssignment))
	r.With(s.requireFormCSRF).Post("/courses/{id}/assignments", s.handle(s.serveCreateAssignment))
	r.Get("/courses/{id}/grades", s.handle(s.serveCourseGradebook))
	r.Get("/courses/{id}/grades.csv", s.handle(s.serveCourseGrades))
	r.Get("/assignments/{id}", s.handle(s.serveAssignment))
	r.With(s.requireFormCSRF).Post("/assignments/{id}", s.handle(s.serveUpdateAssignment))
	r.Get("/assignments/{id}/edit", s.handle(s.serveEditAssignment))
	r.Get("/assignments/{id}/dashboard", s.handle(s.serveDashboard))
	r.With(s.requireFormCSRF).Post("/assignments/{id}/extensions", s.handle(s.serveExtension))
	r.With(s.requireFormCSRF).Post("/assignments/{id}/overrides", s.handle(s.serveOverride))
	r.With(s.requireFormCSRF).Post("/assignments/{id}/regrade", s.handle(s.serveRegrade))
	r.Get("/assignments/{id}/students/{user}", s.handle(s.serveSubmissions))
	r.Get("/regrades/{id}", s.handle(s.serveRegradePage))
	r.Get("/join", s.handle(s.serveJoinPage))
	r.With(s.requireFormCSRF).Post("/join", s.handle(s.serveJoin))
	r.With(s.requireFormCSRF).Post("/view-as", s.handle(s.serveViewAs))
	r.With(s.requireFormCSRF).Post("/view-as/stop", s.handle(s.serveStopViewingAs))
	r.Get("/exercises/{slug}", s.handle(s.serveExercise))
	r.With(s.requireCSRF).Post("/api/exercises/{slug}/runs", s.api(s.serveStartRun))
	r.With(s.requireCSRF).Post("/api/exercises/{slug}/reference", s.api(s.serveReference))
	r.Get("/runs/{id}", s.handle(s.serveReplay))
	r.Get("/runs/{id}/export/{file}", s.handle(s.serveExport))
	r.Get("/compare", s.handle(s.serveCompare))
	r.Get("/ws/runs/{id}", s.handle(s.serveLive))
	r.Handle("/static/*", staticHandler())
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", s.serveReady)
	r.Handle("/metrics", s.runs.metrics.handler())
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(KindNotFound, "There is no page at %s.", r.URL.Path)
	}))
	return r
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// serveReady answers 200 when the server grades runs, and 503 with the
// reason while it cannot (the grader warming up, a host without the
// sandbox): what a load balancer asks before sending students here.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	reason := ""
	switch st := s.hostStatus(); {
	case !st.Ready:
		reason = "grading is off on this host: " + st.Reason
	case s.cfg.Queue == nil:
		reason = "this server has no queue"
	case s.grader() == nil:
		reason = "the grader is warming up its build cache"
	}
	if reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(reason + "\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// contentSecurityPolicy allows the lab's own scripts only, never inline
// ones, and no framing. Styles may be inline: the editor sets its own.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
