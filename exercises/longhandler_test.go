package exercises

import (
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestFailOnLongHandler runs one callback as the loop measured it through
// the analysis and the check helper: a callback that spent most of its
// length asleep fails Starved, to be run again; one that computed, or
// waited for a CPU, fails for good; one the loop did not measure is judged
// as it stands; the harness's own is never the handler's.
func TestFailOnLongHandler(t *testing.T) {
	ms := func(f float64) int64 { return int64(f * 1e6) }
	const tag = 0x7a9
	for _, c := range []struct {
		name            string
		key             int64 // Arg1 of the callback's Begin
		dur, cpu, delay int64
		fail, starved   bool
	}{
		{"put to sleep (CI, a callback that set a flag)", 0, ms(156.9), ms(0.02), 0, true, true},
		{"sleeps in the callback", 0, ms(300), ms(0.1), ms(2), true, true},
		{"spins", 0, ms(300), ms(280), ms(15), true, false},
		{"half asleep, half spinning", 0, ms(300), ms(150), 0, true, false},
		{"mostly waiting for a CPU", 0, ms(300), ms(20), ms(250), false, false},
		{"not measured", 0, ms(300), -1, -1, true, false},
		{"the harness's", tag, ms(300), ms(0.1), 0, false, false},
		{"a forged key", tag + 1, ms(300), ms(0.1), 0, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			names := []string{"", "cb"}
			tr := &trace.Trace{Version: trace.Version, Names: names, Events: []trace.Event{
				{Seq: 1, Kind: trace.KindHandler, Phase: trace.PhaseBegin, Time: ms(5), Arg1: c.key, Name: 1, Fd: -1},
				{Seq: 2, Kind: trace.KindHandler, Phase: trace.PhaseEnd, Time: ms(5) + c.dur, Dur: c.dur, Arg0: c.cpu, Arg1: c.delay, Name: 1, Fd: -1},
			}}
			r := &Run{Scenario: &Scenario{Name: "s"}, Backend: engine.Epoll, Trace: tr}
			r.ParseReports(tag)
			r.Findings = trace.Analyze(tr, trace.LintOptions{LongHandler: 100 * time.Millisecond, Harness: tag})
			o, found := FailOnLongHandler(r)
			if found != c.fail {
				t.Fatalf("found = %v (%q), want %v", found, o.Message, c.fail)
			}
			if !found {
				return
			}
			if o.Passed() || o.Ref == nil || o.Ref.Seq != 1 {
				t.Errorf("outcome = %+v, want a failure at the callback's begin (seq 1)", o)
			}
			if o.Starved != c.starved {
				t.Errorf("Starved = %v, want %v", o.Starved, c.starved)
			}
		})
	}
}
