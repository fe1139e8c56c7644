package cancelrace

import (
	"fmt"
	"strings"

	"github.com/asynclab/asynclab/exercises/cancelrace/wire"

	"github.com/asynclab/asynclab/exercises"
)

// The bins of the prediction: who won a racy trial.
const (
	binRead     = "the read completed first (a cancel sent then finds nothing: ENOENT)"
	binCancel   = "the cancel won (the read ended with ECANCELED)"
	binRunning  = "too late while running (the cancel got EALREADY, the read completed)"
	binsOrdered = 3
)

var prediction = &exercises.Prediction{
	Question: "In the race trials the bytes and the cancel come at random moments close together, and in the file trials " +
		"the cancel comes while a worker copies the file. Across both backends, what share of those trials " +
		"ends each way?",
	Form:    exercises.PredictHistogram,
	Choices: []string{binRead, binCancel, binRunning},
	Actual:  whoWon,
}

// whoWon counts the racy trials of runs by how their read ended (the
// harness's record of the read's own completion) and what the kernel
// answered the cancel (the trace's cancel events).
func whoWon(runs []*exercises.Run) (exercises.Answer, bool) {
	counts := make([]int, binsOrdered)
	var notes []string
	for _, r := range runs {
		var c [binsOrdered]int
		for _, t := range trials(r) {
			if !t.kind.Racy() || t.end == nil {
				continue
			}
			switch {
			case t.outcome == wire.Cancelled:
				c[1]++
			case t.outcome != wire.Completed:
				continue
			case ealready(t):
				c[2]++
			default:
				c[0]++
			}
		}
		if c[0]+c[1]+c[2] == 0 {
			continue
		}
		for i := range c {
			counts[i] += c[i]
		}
		notes = append(notes, fmt.Sprintf("%s: %d read first, %d cancelled, %d EALREADY", r.Where(), c[0], c[1], c[2]))
	}
	if len(notes) == 0 {
		return exercises.Answer{}, false
	}
	return exercises.Answer{Shares: exercises.SharesOf(counts), Note: strings.Join(notes, "; ")}, true
}

// ealready reports whether a cancel of t's read got EALREADY from the
// kernel.
func ealready(t *trialView) bool {
	for _, c := range t.cancels {
		if c.Res == -wire.EALREADY {
			return true
		}
	}
	return false
}
