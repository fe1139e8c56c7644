// Package report is what an exercise's harness and the grader agree on:
// the run's arguments the grader hands the harness, and the marks the
// harness writes into the trace for the grader to read. It is a leaf, so
// that the grader's side builds on any platform; the harness's side is
// package kit, inside the sandbox.
package report

import (
	"strconv"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
)

// Args are the run's arguments, passed by the grader as JSON in argv[1].
type Args struct {
	Backend  backend.Kind      `json:"backend"`
	Scenario string            `json:"scenario"`
	Params   map[string]string `json:"params"`
	Tag      int64             `json:"tag"`     // marks the harness's own reports
	Timeout  time.Duration     `json:"timeout"` // how long the handler has to report

	// HandlerCPU asks the loop to record, on each handler's end, the CPU
	// time and the run-queue delay of the loop's thread during it (see
	// engine.Config.HandlerCPU), for exercises that tell a callback that
	// computed from one that blocked.
	HandlerCPU bool `json:"handler_cpu"`
}

// Param returns a scenario parameter.
func (a Args) Param(k string) string { return a.Params[k] }

// Duration returns a scenario parameter parsed as a duration, or def.
func (a Args) Duration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(a.Params[k]); err == nil {
		return d
	}
	return def
}

// Int returns a scenario parameter parsed as an integer, or def.
func (a Args) Int(k string, def int) int {
	if v, err := strconv.Atoi(a.Params[k]); err == nil {
		return v
	}
	return def
}

// Prefixes of the harness's tagged marks, read by the grader.
const (
	Result = "result " // what the handler answered
	Error  = "error "  // how the run ended, if not cleanly
	FDs    = "fds "    // descriptors open after the run, beyond the harness's own
	Never  = "never "  // the handler never answered
	Value  = "value "  // a named value measured by the harness: "value name=123"
	// Harness says the run failed for a reason of the lab's own (the loop
	// or the harness could not be set up), not the handler's: the grade is
	// the lab's failure, never the student's.
	Harness = "harness-error "
)

// Loop is the loop id of the harness's own reports in the trace. They have
// a recorder of their own, so that a handler flooding the loop's ring can
// never crowd them out.
const Loop = 1

// EndOfRun names the harness's timer that ends the run after the answer.
const EndOfRun = "harness: end of run"

// ValueTimerLate is the value, in nanoseconds, of how late the latest Go
// timer of the harness's probe fired.
const ValueTimerLate = "go-timer-late-ns"
