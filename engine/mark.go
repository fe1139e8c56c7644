package engine

import "github.com/asynclab/asynclab/engine/trace"

// Mark writes a note into the trace at this moment, for the timeline: "got
// the header", "retrying". It must be called on the loop.
func (l *Loop) Mark(text string) { l.MarkTagged(0, text) }

// MarkTagged writes a note carrying tag in Arg1. The exercise harness tags
// its own reports with a value the handler cannot know, so a handler's
// Mark can never pass for one.
func (l *Loop) MarkTagged(tag int64, text string) {
	l.mustOnLoop("Mark")
	l.rec.Emit(trace.Event{Kind: trace.KindMark, Time: l.rec.Now(), Name: l.rec.Intern(text), Arg1: tag, Fd: -1})
}
