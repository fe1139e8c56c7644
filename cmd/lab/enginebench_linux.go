package main

import (
	"context"
	"fmt"

	"github.com/asynclab/asynclab/internal/bench/enginebench"
)

// benchEngine is `lab bench engine`: the engine's echo servers against
// named baselines, on this machine's kernel.
func benchEngine(ctx context.Context, m *Main, opts enginebench.Options) error {
	rep, err := enginebench.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("bench engine: %w", err)
	}
	if err := rep.WriteTable(m.Stdout); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "\ngnet and the C liburing sweep: cd bench && go run ./cmd/enginebench")
	return nil
}

// benchChild serves as one of `lab bench engine`'s echo servers, if this
// process was started as one, and reports whether it was.
func benchChild() bool { return enginebench.ServeChild() }
