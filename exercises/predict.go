package exercises

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Prediction is an exercise's predict step: a question the student answers
// in a typed form before running, and how the real answer is read from a
// run. A wrong prediction costs nothing; the run puts the real value next to
// it, and the result page and the gradebook keep both.
type Prediction struct {
	Question string
	Form     PredictForm
	// Unit names what a number counts ("ms", "wakeups"); Number only.
	Unit string
	// Choices are the possible outcomes, in the order shown: the options
	// of a Choice, the bins of a Histogram.
	Choices []string
	// Actual reads the real answer from a handler's runs (those of one
	// practice run or of a submission). ok is false when the runs do not
	// show it, for example when each ended before the moment it is about.
	// It reads only what the lab measured, never the handler's own
	// reports, and Answer.Note says where the value comes from: "the 10 ms
	// request waited 143 ms in burst on epoll".
	Actual func(runs []*Run) (a Answer, ok bool)
}

// PredictForm is the kind of answer a prediction takes.
type PredictForm string

// The prediction forms.
const (
	PredictNumber    PredictForm = "number"    // one number, in Unit
	PredictChoice    PredictForm = "choice"    // one of Choices
	PredictHistogram PredictForm = "histogram" // a share (percent) for each of Choices
)

// Answer is a prediction or the real value it is compared with. Only the
// field of the prediction's form is set.
type Answer struct {
	Number *float64 `json:"number,omitempty"`
	Choice string   `json:"choice,omitempty"`
	// Shares are the histogram's bins in percent, one per choice, summing
	// to 100 (rounded).
	Shares []float64 `json:"shares,omitempty"`
	// Note says where a measured answer comes from; empty for a student's.
	Note string `json:"note,omitempty"`
}

// Num is an Answer holding the number v.
func Num(v float64) Answer { return Answer{Number: &v} }

// SharesOf returns histogram shares in percent for counts.
func SharesOf(counts []int) []float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	out := make([]float64, len(counts))
	for i, c := range counts {
		if total > 0 {
			out[i] = math.Round(1000*float64(c)/float64(total)) / 10
		}
	}
	return out
}

// Validate checks that p is well formed.
func (p *Prediction) Validate() error {
	switch {
	case p.Question == "":
		return errors.New("prediction has no question")
	case p.Actual == nil:
		return errors.New("prediction has no way to read the real answer (Actual)")
	}
	switch p.Form {
	case PredictNumber:
		if len(p.Choices) != 0 {
			return errors.New("a number prediction has no choices")
		}
	case PredictChoice, PredictHistogram:
		if len(p.Choices) < 2 {
			return fmt.Errorf("a %s prediction needs at least two choices", p.Form)
		}
		seen := map[string]bool{}
		for _, c := range p.Choices {
			if c == "" || seen[c] {
				return fmt.Errorf("prediction choice %q is empty or repeated", c)
			}
			seen[c] = true
		}
	default:
		return fmt.Errorf("prediction form %q is not number, choice or histogram", p.Form)
	}
	return nil
}

// Check checks a student's prediction a against p's form and returns it
// cleaned (only the form's field kept). Its errors are in words a student
// can act on.
func (p *Prediction) Check(a Answer) (Answer, error) {
	switch p.Form {
	case PredictNumber:
		if a.Number == nil || math.IsNaN(*a.Number) || math.IsInf(*a.Number, 0) {
			return Answer{}, errors.New("the prediction must be a number")
		}
		return Num(*a.Number), nil
	case PredictChoice:
		if !slices.Contains(p.Choices, a.Choice) {
			return Answer{}, errors.New("pick one of the choices")
		}
		return Answer{Choice: a.Choice}, nil
	case PredictHistogram:
		if len(a.Shares) != len(p.Choices) {
			return Answer{}, fmt.Errorf("give a share for each of the %d outcomes", len(p.Choices))
		}
		total := 0.0
		for i, v := range a.Shares {
			if v < 0 || v > 100 || math.IsNaN(v) {
				return Answer{}, fmt.Errorf("the share for %q must be a percentage from 0 to 100", p.Choices[i])
			}
			total += v
		}
		if math.Abs(total-100) > 0.5 {
			return Answer{}, fmt.Errorf("the shares add up to %g%%; they must add up to 100%%", total)
		}
		return Answer{Shares: slices.Clone(a.Shares)}, nil
	}
	return Answer{}, fmt.Errorf("prediction form %q is unknown", p.Form)
}

// Format shows a in words: "140 ms", "EINPROGRESS", "first 20% · second 80%".
func (p *Prediction) Format(a Answer) string {
	switch p.Form {
	case PredictNumber:
		if a.Number == nil {
			return "—"
		}
		s := strconv.FormatFloat(*a.Number, 'g', 4, 64)
		unit := p.Unit
		if *a.Number == 1 && len(unit) > 2 && strings.HasSuffix(unit, "s") {
			unit = unit[:len(unit)-1] // "1 wakeup", not "1 wakeups"; "1 ms" stays
		}
		if unit != "" {
			s += " " + unit
		}
		return s
	case PredictChoice:
		if a.Choice == "" {
			return "—"
		}
		return a.Choice
	case PredictHistogram:
		if len(a.Shares) != len(p.Choices) {
			return "—"
		}
		parts := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			parts[i] = fmt.Sprintf("%s %g%%", c, a.Shares[i])
		}
		return strings.Join(parts, " · ")
	}
	return "—"
}
