package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
)

// startRequest is the body of POST /api/exercises/{slug}/runs.
type startRequest struct {
	Code     string   `json:"code"`
	Mode     string   `json:"mode"`     // "run" or "submit"
	Backends []string `json:"backends"` // empty: every backend of the exercise
	Scenario string   `json:"scenario"` // empty: every scenario
	// Assignment is the assignment a submission is for; empty: none.
	Assignment string `json:"assignment"`
	// Prediction is the student's answer to the exercise's predict step,
	// committed before this run; nil: none.
	Prediction *exercises.Answer `json:"prediction"`
}

type startResponse struct {
	ID  string `json:"id"`
	URL string `json:"url"` // the run's replay page
	WS  string `json:"ws"`  // its websocket
}

// writeRun answers a request that started or found run id.
func writeRun(w http.ResponseWriter, code int, id string) {
	writeJSON(w, code, startResponse{ID: id, URL: "/runs/" + id, WS: "/ws/runs/" + id})
}

// serveStartRun records a run of the code sent and grades it in the
// background; the answer names its page and websocket.
func (s *Server) serveStartRun(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	var req startRequest
	if err := readJSON(w, r, MaxCode+4096, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Code) == "" {
		return errorf(KindInvalid, "The handler is empty.")
	}
	if len(req.Code) > MaxCode {
		return errorf(KindTooLarge, "The handler is larger than %d KiB.", MaxCode>>10)
	}
	mode := labs.RunMode(req.Mode)
	if !mode.Valid() {
		return errorf(KindInvalid, "The mode must be \"run\" or \"submit\", not %q.", req.Mode)
	}
	now := s.cfg.Now()
	run := &labs.Run{ID: labs.NewRunID(now), Exercise: ex.Slug, Mode: mode, Client: owner(w, r), Code: req.Code, Created: now}
	if mode == labs.ModeSubmit && (len(req.Backends) > 0 || req.Scenario != "") {
		return errorf(KindInvalid, "A submission is graded on every scenario and backend; choose them only for a run.")
	}
	for _, b := range req.Backends {
		if !slices.Contains(ex.Backends, backend.Kind(b)) {
			return errorf(KindInvalid, "This exercise runs on %v, not %q.", ex.Backends, b)
		}
		if !slices.Contains(run.Backends, b) {
			run.Backends = append(run.Backends, b)
		}
	}
	if req.Prediction != nil {
		if ex.Predict == nil {
			return errorf(KindInvalid, "This exercise asks for no prediction.")
		}
		a, err := ex.Predict.Check(*req.Prediction)
		if err != nil {
			return errorf(KindInvalid, "Your prediction: %s.", err)
		}
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode a prediction: %w", err)
		}
		run.Prediction = string(b)
	}
	if req.Scenario != "" {
		if !slices.ContainsFunc(ex.Scenarios, func(sc exercises.Scenario) bool { return sc.Name == req.Scenario }) {
			return errorf(KindInvalid, "This exercise has no scenario %q.", req.Scenario)
		}
		run.Scenarios = []string{req.Scenario}
	}
	if req.Assignment != "" {
		// Checking the cap and storing the run are one step, so two
		// quick submissions cannot both take the last one. A submission
		// refused here costs nothing of the rate limit.
		s.submitting.Lock()
		defer s.submitting.Unlock()
		if err := s.checkSubmission(r, run, req.Assignment); err != nil {
			return err
		}
		run.Assignment = req.Assignment
	}
	if err := s.gate(r); err != nil {
		return err
	}
	if err := s.runs.start(r.Context(), run); err != nil {
		return err
	}
	writeRun(w, http.StatusAccepted, run.ID)
	return nil
}

// gate refuses a run when the host cannot grade, the grader is not ready,
// or the client has run too much.
func (s *Server) gate(r *http.Request) error {
	if err := s.grading(); err != nil {
		return err
	}
	if !s.limit.allow(limitKey(r)) || !s.hosts.allow(remoteHost(r)) {
		return errorf(KindLimit, "Too many runs in the last minute; wait a moment and try again.")
	}
	return nil
}

// grading refuses work when the host cannot grade or the grader is not
// ready.
func (s *Server) grading() error {
	if st := s.hostStatus(); !st.Ready {
		return errorf(KindUnavailable, "Grading is off on this host: %s. Nothing was run.", st.Reason)
	}
	if s.cfg.Queue == nil {
		return errorf(KindUnavailable, "This server takes no runs: it has no queue.")
	}
	if s.grader() == nil {
		return errorf(KindUnavailable, "The grader is still warming up its build cache; try again in a few seconds.")
	}
	return nil
}

// serveReference returns a graded run of the exercise's reference
// solution on every scenario and backend, starting one if none is
// recorded, for students to compare theirs with. Its code is never shown.
func (s *Server) serveReference(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	runs, err := s.cfg.Store.ClientRuns(r.Context(), referenceClient, ex.Slug, 5)
	if err != nil {
		return fmt.Errorf("reference of %s: %w", ex.Slug, err)
	}
	for _, run := range runs {
		// A graded one: a comparison shows what passing looks like. (The
		// reference once ran as practice, ungraded.)
		if run.Mode == labs.ModeSubmit && run.Status != labs.StatusInterrupted && run.Verdict != string(grading.InternalError) {
			writeRun(w, http.StatusOK, run.ID)
			return nil
		}
	}
	if err := s.gate(r); err != nil {
		return err
	}
	now := s.cfg.Now()
	run := &labs.Run{ID: labs.NewRunID(now), Exercise: ex.Slug, Mode: labs.ModeSubmit, Client: referenceClient, Code: string(ex.Reference), Created: now}
	if err := s.runs.start(r.Context(), run); err != nil {
		return err
	}
	writeRun(w, http.StatusAccepted, run.ID)
	return nil
}
