package connect

import (
	"fmt"

	"github.com/asynclab/asynclab/engine/linux"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
)

// The choices of the prediction: what connect(2) on a non-blocking socket
// returns for a port where nothing listens.
const (
	predictConnected  = "0: connected at once"
	predictInProgress = "EINPROGRESS: the handshake goes on, the refusal comes later"
	predictRefused    = "ECONNREFUSED: refused at once"
)

var prediction = &exercises.Prediction{
	Question: "A non-blocking connect to a port where nothing listens (the closed scenario): what does the connect(2) call itself return?",
	Form:     exercises.PredictChoice,
	Choices:  []string{predictConnected, predictInProgress, predictRefused},
	Actual:   connectReturned,
}

// connectReturned reads the first connect(2) of the closed scenario from
// the trace: the handler's own call on epoll or the engine's for a CONNECT
// op, whichever the run made.
func connectReturned(runs []*exercises.Run) (exercises.Answer, bool) {
	for _, r := range runs {
		if r.Scenario.Name != "closed" || r.Trace == nil {
			continue
		}
		for i := range r.Trace.Events {
			e := &r.Trace.Events[i]
			if e.Kind != trace.KindSyscall || e.Phase != trace.PhaseInstant || r.Trace.Name(e.Name) != "connect" {
				continue
			}
			var choice string
			switch e.Res {
			case 0:
				choice = predictConnected
			case -linux.EINPROGRESS:
				choice = predictInProgress
			case -linux.ECONNREFUSED:
				choice = predictRefused
			default:
				return exercises.Answer{}, false
			}
			what := "0"
			if e.Res < 0 {
				what = trace.ErrnoName(-e.Res)
			}
			return exercises.Answer{Choice: choice, Note: fmt.Sprintf("connect(2) returned %s %.2f ms into %s", what, float64(e.Time)/1e6, r.Where())}, true
		}
	}
	return exercises.Answer{}, false
}
