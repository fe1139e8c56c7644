package headofline

import (
	"fmt"
	"math"

	"github.com/asynclab/asynclab/exercises"
)

var prediction = &exercises.Prediction{
	Question: "Four requests arrive together with 80, 40, 20 and 10 ms of CPU work, and the starter does each " +
		"request's work in the callback that delivers it. How long does the 10 ms request wait before its work even starts?",
	Form:   exercises.PredictNumber,
	Unit:   "ms",
	Actual: smallestWait,
}

// smallestWait reads, from the burst scenario, how long the burst's
// smallest request waited from its arrival to the first unit of its work,
// as the harness recorded both.
func smallestWait(runs []*exercises.Run) (exercises.Answer, bool) {
	for _, r := range runs {
		if r.Scenario.Name != "burst" {
			continue
		}
		h := readHarness(r)
		id, units := -1, math.MaxInt
		for i, e := range h.arrive {
			// The burst arrives first: its requests have the lowest ids.
			if i <= 4 && int(e.Res) < units {
				id, units = i, int(e.Res)
			}
		}
		if id < 0 {
			continue
		}
		start := int64(-1)
		for _, w := range h.work {
			if w.id == id && (start < 0 || w.start < start) {
				start = w.start
			}
		}
		if start < 0 {
			continue
		}
		// The arrival mark is written when the request is delivered, its
		// Dur how long it was due before that.
		due := h.arrive[id].Time - h.arrive[id].Dur
		wait := math.Round(float64(start-due)/1e5) / 10
		return exercises.Answer{Number: &wait, Note: fmt.Sprintf("req %d (%d units) arrived %.1f ms into %s and its work began %.1f ms later",
			id, units, float64(due)/1e6, r.Where(), wait)}, true
	}
	return exercises.Answer{}, false
}
