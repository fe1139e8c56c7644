package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// storedRun returns the run named in the URL.
func (s *Server) storedRun(r *http.Request, id string) (*labs.Run, error) {
	if !labs.ValidRunID(id) {
		return nil, errorf(KindNotFound, "There is no run %q.", id)
	}
	run, err := s.cfg.Store.Run(r.Context(), id)
	ok := false
	if err == nil {
		ok, err = s.mayOpen(r, run)
	}
	// Someone else's run is missing, as far as the request can tell: its
	// id says nothing to anyone who may not open it.
	if errors.Is(err, labs.ErrNotFound) || err == nil && !ok {
		return nil, errorf(KindNotFound, "There is no run %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	return run, nil
}

func runItems(runs []*labs.Run) []templates.RunItem {
	var out []templates.RunItem
	for _, run := range runs {
		out = append(out, templates.RunItem{ID: run.ID, Exercise: run.Exercise, Mode: string(run.Mode), Status: string(run.Status),
			Verdict: run.Verdict, Score: run.Score, Max: run.Max, Created: run.Created.UTC().Format("2006-01-02 15:04:05 UTC"),
			Backends: strings.Join(run.Backends, "+")})
	}
	return out
}

func (s *Server) runView(run *labs.Run) templates.RunPageView {
	v := templates.RunPageView{RunItem: runItems([]*labs.Run{run})[0], Code: run.Code, Reference: run.Client == referenceClient}
	if v.Reference {
		v.Code = ""
	}
	if ex := s.runs.exercises[run.Exercise]; ex != nil {
		v.Title = ex.Title
	}
	return v
}

// serveReplay is a recorded run's page: its code, its timeline and its
// result, replayed from the store (or live, while it runs).
func (s *Server) serveReplay(w http.ResponseWriter, r *http.Request) error {
	run, err := s.storedRun(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	v := s.runView(run)
	others, err := s.cfg.Store.ClientRuns(r.Context(), owner(w, r), run.Exercise, 20)
	if err != nil {
		return fmt.Errorf("replay %s: %w", run.ID, err)
	}
	for _, o := range runItems(others) {
		if o.ID != run.ID {
			v.Others = append(v.Others, o)
		}
	}
	if u := viewer(r); u != nil && run.Client == u.ID {
		enrolled, err := s.cfg.Store.Enrolments(r.Context(), u.ID)
		if err != nil {
			return fmt.Errorf("replay %s: %w", run.ID, err)
		}
		for _, e := range enrolled {
			if e.Role.Staff() {
				v.ShowTo = append(v.ShowTo, templates.CourseChoice{ID: e.ID, Name: e.Name})
			}
		}
	}
	return render(w, r, templates.Replay(v, s.hostStatus(), csrfToken(w, r)))
}

// serveCompare shows two runs on one time axis.
func (s *Server) serveCompare(w http.ResponseWriter, r *http.Request) error {
	a, err := s.storedRun(r, r.URL.Query().Get("a"))
	if err != nil {
		return err
	}
	b, err := s.storedRun(r, r.URL.Query().Get("b"))
	if err != nil {
		return err
	}
	return render(w, r, templates.Compare(s.runView(a), s.runView(b), s.hostStatus()))
}
