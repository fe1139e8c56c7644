// Package wire is the marks, answer codes and parameters the head-of-line harness writes and its checks read: the names both sides of the
// trace use. It is a leaf, so that the grader's side builds on any platform.
package wire

import (
	"strconv"
	"strings"
)

// The harness's own marks on the engine's loop, tagged with the run's tag
// so that a handler cannot forge them. Arg0 is the request's id in each.
const (
	// MarkArrive is written when a request is delivered: Res is its units,
	// Time the delivery and Dur how long the request had waited for it,
	// so Time-Dur is the moment it arrived.
	MarkArrive = "arrive: "
	// MarkWork is written after each call of work that did some units on
	// the loop's thread; MarkWorkOff after each unit done on another
	// goroutine.
	// Res is the units done, Time the call's start and Dur its length.
	MarkWork    = "work: "
	MarkWorkOff = "work off the loop: "
	// MarkAnswer is written for each response: Res is an Answer code.
	MarkAnswer = "answer: "
)

// The answer codes a MarkAnswer carries in Res.
const (
	AnswerRight      = 0 // the right result, once all the units were done
	AnswerWrong      = 1 // a result that is not the work's
	AnswerIncomplete = 2 // before all the units were done
	AnswerAgain      = 3 // a second (or later) response to one request
)

// Scenario parameters: "burst" lists the units of the requests that arrive
// together at the start; "stream" the units of those that follow, one
// every "every", the first "every" after the start; "giveup" is how long
// the harness waits with no request answered and no unit of work done
// before it stops waiting. It counts from the latest answer or unit, not
// from the start, so that a loaded machine, which slows every answer,
// never cuts a working handler short (a round-robin handler answers
// nothing until near its end, and a starved box may take seconds to get
// there); a handler that stops working and answering is cut short as soon.
const (
	ParamBurst  = "burst"
	ParamStream = "stream"
	ParamEvery  = "every"
	ParamGiveUp = "giveup"
)

// Units parses a comma-separated list of units, as the scenario gives it.
func Units(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// FormatUnits writes n units: "1 unit", "80 units".
func FormatUnits(n int) string {
	if n == 1 {
		return "1 unit"
	}
	return strconv.Itoa(n) + " units"
}
