package kit

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/exercises/report"
)

// ParamTrigger is the scenario parameter that picks how the loop's epoll
// backend registers interest: "level" (the default), "edge" or "oneshot".
// io_uring has no trigger, so its loops ignore it.
const ParamTrigger = "trigger"

// The values of [ParamTrigger].
const (
	TriggerLevel   = "level"
	TriggerEdge    = "edge"
	TriggerOneShot = "oneshot"
)

// trigger returns the loop trigger a run's arguments ask for.
func trigger(a report.Args) engine.Trigger {
	switch a.Param(ParamTrigger) {
	case TriggerEdge:
		return engine.EdgeTriggered
	case TriggerOneShot:
		return engine.OneShot
	}
	return engine.LevelTriggered
}
