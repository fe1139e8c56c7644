package batching

import (
	"fmt"

	"github.com/asynclab/asynclab/exercises/batching/wire"

	"github.com/asynclab/asynclab/exercises"
)

var prediction = &exercises.Prediction{
	Question: "The starter makes one io_uring_enter per op: 2000 for 1000 reads and 1000 NOPs. " +
		"How many will your handler make for them on a 32-entry ring?",
	Form:   exercises.PredictNumber,
	Unit:   "io_uring_enter calls",
	Actual: firstCallEnters,
}

// firstCallEnters counts the io_uring_enter calls the handler made on its
// ring in the first call of ring-32, which carries every read and NOP.
func firstCallEnters(runs []*exercises.Run) (exercises.Answer, bool) {
	for _, r := range runs {
		if r.Scenario.Name != "ring-32" {
			continue
		}
		ws, o := windows(r)
		if o != nil || len(ws) == 0 || !ws[0].finished {
			continue
		}
		loopFd := -1
		if v, ok := value(r, wire.ValueLoopRingFd); ok {
			loopFd = int(v)
		}
		enters, _, _ := countEnters(r, ws[0], loopFd)
		n := float64(len(enters))
		return exercises.Answer{Number: &n, Note: fmt.Sprintf("call 1 of %s (%s) entered the kernel %d times", r.Where(), ws[0].what(), len(enters))}, true
	}
	return exercises.Answer{}, false
}
