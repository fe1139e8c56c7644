package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/web/live"
)

// serveLive streams a run's messages over a websocket (docs/live.md).
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if !labs.ValidRunID(id) {
		return errorf(KindNotFound, "There is no run %q.", id)
	}
	run, err := s.storedRun(r, id)
	if err != nil {
		return err
	}
	opt := s.cfg.Live
	if hidden, due := s.feedbackHidden(r, run); hidden {
		opt.Rewrite = passFailOnly(due.UTC().Format("2006-01-02 15:04 UTC"))
	}
	st, release, err := s.runs.stream(r.Context(), id)
	if errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "There is no run %q.", id)
	}
	if errors.Is(err, errWaiting) {
		return errorf(KindUnavailable, "This run is waiting to be graded again after a restart; it starts in a moment.")
	}
	if err != nil {
		return fmt.Errorf("live %s: %w", id, err)
	}
	defer release()
	s.runs.metrics.viewers.Inc()
	defer s.runs.metrics.viewers.Dec()
	return live.Serve(s.runs.ctx, w, r, st, opt)
}
