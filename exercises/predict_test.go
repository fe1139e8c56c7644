package exercises

import (
	"strings"
	"testing"
)

func TestPredictionFormatAndCheck(t *testing.T) {
	wakeups := &Prediction{Question: "q", Form: PredictNumber, Unit: "wakeups", Actual: func([]*Run) (Answer, bool) { return Answer{}, false }}
	ms := &Prediction{Question: "q", Form: PredictNumber, Unit: "ms"}
	choice := &Prediction{Question: "q", Form: PredictChoice, Choices: []string{"a", "b"}}
	hist := &Prediction{Question: "q", Form: PredictHistogram, Choices: []string{"first", "second"}}
	format := []struct {
		p    *Prediction
		a    Answer
		want string
	}{
		{wakeups, Num(5), "5 wakeups"},
		{wakeups, Num(1), "1 wakeup"},
		{ms, Num(1), "1 ms"},
		{ms, Num(143.25), "143.2 ms"},
		{choice, Answer{Choice: "b"}, "b"},
		{hist, Answer{Shares: []float64{25, 75}}, "first 25% · second 75%"},
		{hist, Answer{}, "—"},
		{wakeups, Answer{}, "—"},
	}
	for _, tt := range format {
		if got := tt.p.Format(tt.a); got != tt.want {
			t.Errorf("Format(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
	check := []struct {
		name string
		p    *Prediction
		a    Answer
		err  string // "" for a good answer
	}{
		{"a number", wakeups, Num(3), ""},
		{"no number", wakeups, Answer{Choice: "a"}, "must be a number"},
		{"a choice", choice, Answer{Choice: "a"}, ""},
		{"not a choice", choice, Answer{Choice: "c"}, "pick one"},
		{"shares", hist, Answer{Shares: []float64{40, 60}}, ""},
		{"shares off by a rounding", hist, Answer{Shares: []float64{33.3, 66.6}}, ""},
		{"shares that do not add up", hist, Answer{Shares: []float64{40, 40}}, "add up to 80%"},
		{"a negative share", hist, Answer{Shares: []float64{-10, 110}}, "from 0 to 100"},
		{"too few shares", hist, Answer{Shares: []float64{100}}, "each of the 2"},
	}
	for _, tt := range check {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Check(tt.a)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Check(%+v) = %v, want %q", tt.a, err, tt.err)
			}
		})
	}
	if got := SharesOf([]int{1, 2, 1}); got[0] != 25 || got[1] != 50 || got[2] != 25 {
		t.Errorf("SharesOf(1, 2, 1) = %v", got)
	}
	if err := wakeups.Validate(); err != nil {
		t.Errorf("Validate(a good number prediction) = %v", err)
	}
	if err := choice.Validate(); err == nil {
		t.Error("Validate(a prediction with no Actual) = nil")
	}
}
