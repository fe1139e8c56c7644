package connect

import (
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/kit"
)

// timedOut is a full-queue run whose handler connected at 10 ms and
// answered ETIMEDOUT after took, in a box whose Go timers fired up to
// timerLate late.
func timedOut(took, timerLate time.Duration) *exercises.Run {
	const start = int64(10 * time.Millisecond)
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "Connect (your handler)", "connect", kit.ReportResult + "error ETIMEDOUT"}}
	tr.Events = []trace.Event{
		{Seq: 1, Time: start - 1000, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1},
		{Seq: 2, Time: start, Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: -115},
		{Seq: 3, Time: start + 2000, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1},
		{Seq: 1, Loop: kit.ReportLoop, Time: start + int64(took), Kind: trace.KindMark, Name: 3, Fd: -1, Arg1: 7},
	}
	r := &exercises.Run{Scenario: &exercises.Scenario{Name: "full-queue"}, Backend: "epoll", Trace: tr}
	r.ParseReports(7)
	if timerLate > 0 {
		r.Values[kit.ValueTimerLate] = float64(timerLate)
	}
	return r
}

// TestDeadlineAllowsForLateGoTimers: a handler that keeps its deadline on
// a Go timer of its own answers as late as the box's Go timers fire, which
// the harness's probe measures; a deadline of the handler's own choosing
// still fails.
func TestDeadlineAllowsForLateGoTimers(t *testing.T) {
	for _, tc := range []struct {
		name            string
		took, timerLate time.Duration
		fails           string // "" if the check passes
	}{
		{"on time", 305 * time.Millisecond, 0, ""},
		{"late on a quiet box", 433 * time.Millisecond, 0, "answered 433ms after the connect started"},
		{"late as the box's timers", 433 * time.Millisecond, 140 * time.Millisecond, ""},
		{"own 700 ms deadline on a loaded box", 700 * time.Millisecond, 140 * time.Millisecond, "allowing 140ms"},
		{"early", 200 * time.Millisecond, 0, "reported a timeout after only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := deadlineHonoured(timedOut(tc.took, tc.timerLate))
			switch {
			case tc.fails == "" && !o.Passed():
				t.Errorf("failed: %s", o.Message)
			case tc.fails != "" && o.Passed():
				t.Errorf("passed; want a failure saying %q", tc.fails)
			case tc.fails != "" && !strings.Contains(o.Message, tc.fails):
				t.Errorf("message %q; want it to say %q", o.Message, tc.fails)
			}
		})
	}
}

// TestSpun: connect called again and again in one callback spins,
// whatever the callback's length; called again from separate callbacks
// (a timer), it does not.
func TestSpun(t *testing.T) {
	const einprogress, ealready = -115, -114
	begin := trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseBegin, Name: 1, Fd: -1}
	end := trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseEnd, Name: 1, Fd: -1}
	call := func(res int64) trace.Event {
		return trace.Event{Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: res}
	}
	for _, tc := range []struct {
		name   string
		events []trace.Event
		spun   bool
	}{
		{"three tries in one callback", []trace.Event{begin, call(einprogress), call(ealready), call(ealready), end}, true},
		{"a try and a check in one callback", []trace.Event{begin, call(einprogress), call(ealready), end}, false},
		{"one try per callback, from a timer", []trace.Event{
			begin, call(einprogress), end, begin, call(ealready), end, begin, call(ealready), end, begin, call(0), end}, false},
		{"connected at the third call", []trace.Event{begin, call(einprogress), call(ealready), call(0), end}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &trace.Trace{Version: trace.Version, Names: []string{"", "Connect (your handler)", "connect"}, Events: tc.events}
			if got := spun(&exercises.Run{Trace: tr}) != nil; got != tc.spun {
				t.Errorf("spun = %v, want %v", got, tc.spun)
			}
		})
	}
}
