package engine_test

import (
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestHeadOfLine queues four handlers of 80, 40, 20 and 10 ms together, as
// in the seed text. On a cooperative loop the 10 ms one cannot start before
// the other three have run: a causal bound, not a timing assertion.
func TestHeadOfLine(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		work := []time.Duration{80, 40, 20, 10}
		tr := run(t, l, func() {
			for i, ms := range work {
				last := i == len(work)-1
				l.Queue("req-"+(ms*time.Millisecond).String(), func() {
					spin(ms * time.Millisecond)
					if last {
						l.Stop()
					}
				})
			}
		})
		var begin, ready int64 = -1, -1
		for _, e := range tr.Events {
			if e.Kind == trace.KindHandler && e.Phase == trace.PhaseBegin && tr.Name(e.Name) == "req-10ms" {
				begin, ready = e.Time, e.Arg0
			}
		}
		if begin < 0 {
			t.Fatal("no handler begin event for req-10ms")
		}
		if wait := time.Duration(begin - ready); wait < 140*time.Millisecond {
			t.Errorf("req-10ms waited %v after it was ready, want at least 140ms (80+40+20)", wait)
		}
		findings := trace.Analyze(tr, trace.LintOptions{})
		var hol *trace.Finding
		for i := range findings {
			if findings[i].Code == trace.LintHeadOfLine && findings[i].Subject == "req-10ms" {
				hol = &findings[i]
			}
		}
		if hol == nil {
			t.Fatalf("Analyze found no head-of-line lint for req-10ms; findings: %+v", findings)
		}
		if hol.Blocker != "req-80ms" {
			t.Errorf("head-of-line blocker = %q, want %q", hol.Blocker, "req-80ms")
		}
	})
}
