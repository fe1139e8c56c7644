package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/yuin/goldmark"

	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// render writes the page c with status 200.
func render(w http.ResponseWriter, r *http.Request, c templ.Component) error {
	return renderStatus(w, r, http.StatusOK, c)
}

// renderStatus writes the page c with status code. The page is built
// first, so that a template's error still becomes an error page; a client
// that goes away mid-write is no error of ours.
func renderStatus(w http.ResponseWriter, r *http.Request, code int, c templ.Component) error {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	buf.WriteTo(w)
	return nil
}

// exercise returns the exercise called slug.
func (s *Server) exercise(slug string) (*exercises.Exercise, error) {
	if ex := s.runs.exercises[slug]; ex != nil {
		return ex, nil
	}
	return nil, errorf(KindNotFound, "There is no exercise called %q.", slug)
}

func item(ex *exercises.Exercise) templates.ExerciseItem {
	it := templates.ExerciseItem{Slug: ex.Slug, Title: ex.Title, Topic: ex.Topic, Difficulty: ex.Difficulty, Points: ex.MaxScore()}
	for _, b := range ex.Backends {
		it.Backends = append(it.Backends, string(b))
	}
	return it
}

// serveCatalogue lists the exercises, with this browser's best scores.
func (s *Server) serveCatalogue(w http.ResponseWriter, r *http.Request) error {
	best, err := s.cfg.Store.BestScores(r.Context(), owner(w, r))
	if err != nil {
		return fmt.Errorf("catalogue: %w", err)
	}
	var items []templates.ExerciseItem
	for _, ex := range s.cfg.Exercises {
		it := item(ex)
		if b, ok := best[ex.Slug]; ok {
			it.Best = fmt.Sprintf("%d/%d", b.Score, b.Max)
			it.BestRun = b.RunID
		}
		items = append(items, it)
	}
	home, err := s.home(r)
	if err != nil {
		return err
	}
	return render(w, r, templates.Catalogue(items, home, s.hostStatus()))
}

// serveExercise is an exercise's page: its instructions, the editor with
// the starter, and this browser's recent runs.
func (s *Server) serveExercise(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	var html bytes.Buffer
	if err := goldmark.Convert([]byte(ex.Instructions), &html); err != nil {
		return fmt.Errorf("render instructions of %s: %w", ex.Slug, err)
	}
	v := templates.ExerciseView{ExerciseItem: item(ex), InstructionsHTML: html.String(),
		Starter: string(ex.Starter), Signature: ex.Signature, Imports: builder.EngineImports, Std: builder.SafeStd}
	for _, sc := range ex.Scenarios {
		v.Scenarios = append(v.Scenarios, templates.ScenarioItem{Name: sc.Name, Title: sc.Title})
	}
	client := owner(w, r)
	recent, err := s.cfg.Store.ClientRuns(r.Context(), client, ex.Slug, 10)
	if err != nil {
		return fmt.Errorf("exercise %s: %w", ex.Slug, err)
	}
	v.Recent = runItems(recent)
	v.Predict = predictView(ex, recent)
	v.For = s.forAssignment(r, r.URL.Query().Get("assignment"), ex.Slug)
	return render(w, r, templates.Exercise(v, s.hostStatus(), csrfToken(w, r)))
}

// predictView is ex's predict step as the page shows it, with the
// prediction of the newest of recent (a client's runs, newest first) that
// carried one: the student's standing prediction.
func predictView(ex *exercises.Exercise, recent []*labs.Run) *templates.PredictView {
	p := ex.Predict
	if p == nil {
		return nil
	}
	v := &templates.PredictView{Question: p.Question, Form: string(p.Form), Unit: p.Unit, Choices: p.Choices}
	for _, run := range recent {
		if run.Prediction == "" {
			continue
		}
		predicted, ok := answerOf(run.Prediction)
		if !ok {
			break
		}
		v.Committed, v.CommittedText = run.Prediction, p.Format(predicted)
		if actual, ok := answerOf(run.Actual); ok {
			v.ActualText, v.Note = p.Format(actual), actual.Note
		}
		break
	}
	return v
}

// answerOf reads a stored prediction or real answer; ok is false when
// there is none.
func answerOf(s string) (a exercises.Answer, ok bool) {
	if s == "" {
		return a, false
	}
	return a, json.Unmarshal([]byte(s), &a) == nil
}
