package handler

import (
	"cmp"
	"slices"

	"github.com/asynclab/asynclab/engine"
)

type job struct {
	units   int
	work    func(n int) uint64
	respond func(result uint64)
}

// pending holds the requests not started yet; running says whether a
// "shortest job first" callback is queued. Both belong to the loop.
var (
	pending []job
	running bool
)

// Serve handles request id, which carries units of CPU work: it does the
// work by calling work, and calls respond exactly once with the result.
//
// This one queues the requests and always runs the smallest next. But each
// still runs to completion in one callback: the requests left in the queue,
// and any that arrive meanwhile, wait for all of it.
func Serve(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64)) {
	pending = append(pending, job{units, work, respond})
	if !running {
		running = true
		l.Queue("shortest job first", func() { next(l) })
	}
}

func next(l *engine.Loop) {
	slices.SortStableFunc(pending, func(a, b job) int { return cmp.Compare(a.units, b.units) })
	j := pending[0]
	pending = pending[1:]
	j.respond(j.work(j.units))
	if len(pending) == 0 {
		running = false
		return
	}
	l.Queue("shortest job first", func() { next(l) })
}
