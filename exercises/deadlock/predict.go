package deadlock

import (
	"fmt"

	"github.com/asynclab/asynclab/exercises/deadlock/wire"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
)

// The choices of the prediction: what a callback's Wait on a lookup that
// the loop itself must deliver does.
const (
	predictAnswered = "Wait returns about 30 ms later and the greeting goes out"
	predictDeadlock = "Wait never returns: only the loop could deliver the answer, and it is stuck in Wait"
)

var prediction = &exercises.Prediction{
	Question: "Your callback calls lookup(user).Wait(), and the directory answers 30 ms later. What happens?",
	Form:     exercises.PredictChoice,
	Choices:  []string{predictAnswered, predictDeadlock},
	Actual:   waitOutcome,
}

// waitOutcome reads whether a run deadlocked (the engine's deadlock
// finding) or answered its requests without.
func waitOutcome(runs []*exercises.Run) (exercises.Answer, bool) {
	answered := ""
	for _, r := range runs {
		if r.Trace == nil {
			continue
		}
		for i := range r.Trace.Events {
			if e := &r.Trace.Events[i]; e.Kind == trace.KindLint && trace.LintCode(e.Arg0) == trace.LintDeadlock {
				return exercises.Answer{Choice: predictDeadlock,
					Note: fmt.Sprintf("the loop stopped in a wait %.1f ms into %s: %s", float64(e.Time)/1e6, r.Where(), r.Trace.Name(e.Name))}, true
			}
		}
		if n := r.Values[wire.ValueAnswered]; n > 0 && answered == "" {
			answered = fmt.Sprintf("%s answered %.0f requests and no wait stopped the loop", r.Where(), n)
		}
	}
	if answered == "" {
		return exercises.Answer{}, false
	}
	return exercises.Answer{Choice: predictAnswered, Note: answered}, true
}
