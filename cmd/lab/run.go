package main

import (
	"flag"
	"fmt"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/catalog"
)

// runCmd is `lab run EXERCISE`.
type runCmd struct {
	exercise string
	backends []backend.Kind
}

func parseRun(args []string) (command, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	which := fs.String("backend", "both", "epoll, uring or both")
	file := fs.String("file", "", "your handler (default: the exercise's starter)")
	dataDir := fs.String("data", "lab-data", "where builds, results and traces are kept")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, fmt.Errorf("%w: run needs one exercise name, such as demo", errUsage)
	}
	c := &runCmd{exercise: pos[0]}
	switch *which {
	case "epoll":
		c.backends = []backend.Kind{backend.Epoll}
	case "uring", "io_uring":
		c.backends = []backend.Kind{backend.Uring}
	case "both":
		c.backends = []backend.Kind{backend.Epoll, backend.Uring}
	default:
		return nil, fmt.Errorf("%w: --backend must be epoll, uring or both, not %q", errUsage, *which)
	}
	if c.exercise == "demo" {
		return c, nil
	}
	ex := catalog.Find(c.exercise)
	if ex == nil {
		return nil, fmt.Errorf("unknown exercise %q (available: %s)", c.exercise, slugs())
	}
	return &runExerciseCmd{exercise: ex, backends: c.backends, file: *file, dataDir: *dataDir}, nil
}

// timelineKinds are the kinds the terminal timeline shows. Counters are
// left out: they are sampled every turn and drown the story in a terminal
// (the web timeline draws them as lanes).
var timelineKinds = []trace.Kind{trace.KindSyscall, trace.KindWakeup, trace.KindSubmit, trace.KindComplete,
	trace.KindHandler, trace.KindFuture, trace.KindTimer, trace.KindLint, trace.KindMark, trace.KindCancel, trace.KindReady}
