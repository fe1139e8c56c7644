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
	r.Use(middleware.Recoverer, middleware.GetHead)
	r.Get("/", s.handle(s.serveCatalogue))
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
