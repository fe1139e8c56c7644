package main

import (
	"context"
	"flag"
	"fmt"
)

// benchCmd is `lab bench engine`.
type benchCmd struct{}

func parseBench(args []string) (command, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "engine" {
		return nil, fmt.Errorf("%w: bench needs a suite name: engine", errUsage)
	}
	return benchCmd{}, nil
}

func (benchCmd) run(ctx context.Context, m *Main) error {
	return fmt.Errorf("bench engine: not wired yet")
}
