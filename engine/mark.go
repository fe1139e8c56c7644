package engine

import "github.com/asynclab/asynclab/engine/trace"

// Mark writes a note into the trace at this moment, for the timeline: "got
// the header", "retrying". It must be called on the loop.
func (l *Loop) Mark(text string) {
	l.mustOnLoop("Mark")
	l.rec.Emit(trace.Event{Kind: trace.KindMark, Time: l.stamp(), Name: l.rec.Intern(text), Fd: -1})
}
