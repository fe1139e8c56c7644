package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/asynclab/asynclab/exercises/catalog"
)

// A prediction travels with its run: one that does not fit the exercise's
// form is refused with the reason; a good one is stored with the run, next
// to the real answer the grading gave, and the exercise page shows both.
func TestPredictionTravelsWithTheRun(t *testing.T) {
	ts := newServer(t, nil)
	ex := catalog.Find("connect")
	choice := ex.Predict.Choices[1]
	tests := []struct {
		name       string
		prediction any
		want       string // in the refusal
	}{
		{"not a choice", map[string]any{"choice": "maybe"}, "Your prediction: pick one of the choices."},
		{"a number for a choice", map[string]any{"number": 3}, "pick one of the choices"},
		{"not an object", "EINPROGRESS", "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"code": "package handler\n", "mode": "run", "prediction": tt.prediction})
			code, out := ts.post(t, "/api/exercises/connect/runs", ts.token(t, "connect"), "application/json", body)
			if code != http.StatusBadRequest || !strings.Contains(strings.ToLower(out["error"]), strings.ToLower(tt.want)) {
				t.Errorf("a run with prediction %v = %d %v, want 400 saying %q", tt.prediction, code, out, tt.want)
			}
		})
	}

	id := ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "run", "prediction": map[string]any{"choice": choice}})
	waitFinished(t, ts.store)
	run, err := ts.store.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	wantActual := `{"choice":` + mustJSON(t, ex.Predict.Choices[0]) + `,"note":"the fake grader's"}`
	if run.Prediction != `{"choice":`+mustJSON(t, choice)+`}` || run.Actual != wantActual {
		t.Errorf("the run stores prediction %s and answer %s, want the student's %q and %s", run.Prediction, run.Actual, choice, wantActual)
	}
	_, page := ts.get(t, "/exercises/connect")
	page = html.UnescapeString(page)
	if !strings.Contains(page, "You predicted <strong>"+choice+"</strong>") || !strings.Contains(page, ex.Predict.Choices[0]+"</strong>") {
		t.Errorf("the exercise page does not show the standing prediction and the run's answer:\n%s", page)
	}

	// A run without a prediction is still a run, and leaves the standing
	// one alone.
	ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "run"})
	waitFinished(t, ts.store)
	if _, page := ts.get(t, "/exercises/connect"); !strings.Contains(html.UnescapeString(page), "You predicted <strong>"+choice+"</strong>") {
		t.Error("a run without a prediction made the page forget the standing one")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
