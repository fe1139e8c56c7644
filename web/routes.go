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
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(KindNotFound, "There is no page at %s.", r.URL.Path)
	}))
	return r
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }
