package grading

import (
	"log/slog"

	"github.com/asynclab/asynclab/exercises"
)

// Prediction is a student's prediction next to the real answer the runs
// gave: what the result page and the gradebook show. A wrong prediction
// costs nothing.
type Prediction struct {
	Question      string                `json:"question"`
	Form          exercises.PredictForm `json:"form"`
	Unit          string                `json:"unit,omitempty"`
	Choices       []string              `json:"choices,omitempty"`
	Predicted     *exercises.Answer     `json:"predicted,omitempty"` // nil: the student made none
	PredictedText string                `json:"predicted_text,omitempty"`
	Actual        *exercises.Answer     `json:"actual,omitempty"` // nil: the runs do not show it
	ActualText    string                `json:"actual_text,omitempty"`
	Note          string                `json:"note,omitempty"` // where the real answer comes from
}

// predict reads the real answer to ex's prediction from runs and puts it
// next to predicted. It is nil when the exercise asks for none. The runs'
// traces are the handler's and untrusted: an Actual that panics on one
// leaves the real answer unknown.
func predict(ex *exercises.Exercise, predicted *exercises.Answer, runs []*exercises.Run) *Prediction {
	p := ex.Predict
	if p == nil {
		return nil
	}
	out := &Prediction{Question: p.Question, Form: p.Form, Unit: p.Unit, Choices: p.Choices}
	if predicted != nil {
		out.Predicted, out.PredictedText = predicted, p.Format(*predicted)
	}
	if p.Actual == nil || len(runs) == 0 {
		return out
	}
	a, ok := func() (a exercises.Answer, ok bool) {
		defer func() {
			if v := recover(); v != nil {
				slog.Warn("prediction: reading the real answer panicked", "exercise", ex.Slug, "panic", v)
				ok = false
			}
		}()
		return p.Actual(runs)
	}()
	if ok {
		out.Actual, out.ActualText, out.Note = &a, p.Format(a), a.Note
	}
	return out
}
