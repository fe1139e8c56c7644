package ordering

import (
	"fmt"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/ordering/wire"
)

// The bins of the prediction: what the file holds after a pair.
const (
	binSecond = "the second write's bytes (BBBBBBBBAAAAAAAA)"
	binFirst  = "the first write's bytes (AAAAAAAAAAAAAAAA): the second is lost"
	binOther  = "anything else: a torn mix, or a write missing"
)

var prediction = &exercises.Prediction{
	Question: "The starter queues the first write (16 bytes of A) with engine.Async and the second (8 bytes of B) plain, " +
		"at the same offset, with nothing ordering them. Over the race scenario's 300 pairs on io_uring, " +
		"what share of pairs ends with each of these in the file?",
	Form:    exercises.PredictHistogram,
	Choices: []string{binSecond, binFirst, binOther},
	Actual:  finalBytes,
}

// finalBytes counts the handler's pairs of the race scenario on io_uring by
// the bytes the harness read back from the file.
func finalBytes(runs []*exercises.Run) (exercises.Answer, bool) {
	for _, r := range runs {
		if r.Scenario.Name != "race" || r.Backend != backend.Uring {
			continue
		}
		counts := make([]int, 3)
		for _, p := range pairs(r) {
			switch {
			case p.done == nil:
			case p.outcome == wire.SecondWins:
				counts[0]++
			case p.outcome == wire.FirstWins:
				counts[1]++
			default:
				counts[2]++
			}
		}
		n := counts[0] + counts[1] + counts[2]
		if n == 0 {
			continue
		}
		note := fmt.Sprintf("%s: of %d pairs, %d ended with the second write's bytes, %d with the first's, %d otherwise",
			r.Where(), n, counts[0], counts[1], counts[2])
		return exercises.Answer{Shares: exercises.SharesOf(counts), Note: note}, true
	}
	return exercises.Answer{}, false
}
