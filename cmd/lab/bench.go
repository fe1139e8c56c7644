package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine/enginebench"
)

// benchCmd is `lab bench engine`: the engine's benchmarks without the
// benchmark-only dependencies (gnet and the C liburing sweep live in the
// bench/ module, which runs the same code and adds them).
type benchCmd struct {
	opts enginebench.Options
}

func parseBench(args []string) (command, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c := &benchCmd{}
	fs.DurationVar(&c.opts.Duration, "duration", 2*time.Second, "measured time of each echo run")
	fs.IntVar(&c.opts.Repeats, "repeats", 3, "echo runs per server; the median is reported")
	var suite []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			suite = append(suite, args[0])
			args = args[1:]
		}
	}
	if len(suite) != 1 || suite[0] != "engine" {
		return nil, fmt.Errorf("%w: bench needs a suite name: engine", errUsage)
	}
	return c, nil
}

func (c *benchCmd) run(ctx context.Context, m *Main) error {
	c.opts.Progress = m.Stderr
	rep, err := enginebench.Run(ctx, c.opts)
	if err != nil {
		return fmt.Errorf("bench engine: %w", err)
	}
	if err := rep.WriteTable(m.Stdout); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "\ngnet and the C liburing sweep: cd bench && go run ./cmd/enginebench")
	return nil
}
