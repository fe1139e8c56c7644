package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/demo"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/catalog"
)

// runCmd is `lab run EXERCISE`.
type runCmd struct {
	exercise string
	backends []engine.Kind
}

func parseRun(args []string) (command, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	backend := fs.String("backend", "both", "epoll, uring or both")
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
	switch *backend {
	case "epoll":
		c.backends = []engine.Kind{engine.Epoll}
	case "uring", "io_uring":
		c.backends = []engine.Kind{engine.Uring}
	case "both":
		c.backends = []engine.Kind{engine.Epoll, engine.Uring}
	default:
		return nil, fmt.Errorf("%w: --backend must be epoll, uring or both, not %q", errUsage, *backend)
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

func (c *runCmd) run(ctx context.Context, m *Main) error {
	fmt.Fprintf(m.Stdout, "demo: %d packets of %d bytes, %v apart, from a trusted peer over loopback TCP\n\n",
		demo.Packets, demo.PacketSize, demo.Gap)
	var sums []string
	for _, k := range c.backends {
		res, err := demo.Run(ctx, k)
		if err != nil {
			return err
		}
		writeRun(m.Stdout, res)
		sums = append(sums, fmt.Sprintf("%s: %s", res.Backend.Name(), trace.Summarize(res.Trace)))
	}
	fmt.Fprintf(m.Stdout, "summary: %s\n", strings.Join(sums, " | "))
	return nil
}

func writeRun(w io.Writer, res *demo.Result) {
	title := map[engine.Kind]string{
		engine.Epoll: "epoll (readiness): wake on each packet, read until EAGAIN",
		engine.Uring: "io_uring (completion): one RECV with MSG_WAITALL for all 500 bytes",
	}[res.Backend]
	fmt.Fprintf(w, "== %s\n", title)
	if res.Fallback != "" {
		fmt.Fprintf(w, "   io_uring was asked for but is not usable here, so this ran on epoll: %s\n", res.Fallback)
	}
	trace.WriteText(w, res.Trace, trace.TextOptions{Kinds: timelineKinds})
	fmt.Fprintf(w, "   received %d bytes\n\n", res.Received)
}

// timelineKinds are the kinds the terminal timeline shows. Counters are
// left out: they are sampled every turn and drown the story in a terminal
// (the web timeline draws them as lanes).
var timelineKinds = []trace.Kind{trace.KindSyscall, trace.KindWakeup, trace.KindSubmit, trace.KindComplete,
	trace.KindHandler, trace.KindFuture, trace.KindTimer, trace.KindLint, trace.KindMark, trace.KindCancel, trace.KindReady}
