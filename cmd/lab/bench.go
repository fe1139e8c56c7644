package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/asynclab/asynclab/internal/bench/enginebench"
	"github.com/asynclab/asynclab/internal/bench/livebench"
)

// benchCmd is `lab bench engine|web|grading`. engine: the engine's benchmarks
// without the benchmark-only dependencies (gnet and the C liburing sweep
// live in the bench/ module, which runs the same code and adds them). web:
// how many websocket viewers of one run this host serves within 100 ms.
// grading: bursts of mixed submissions on real lab serve and lab worker
// processes (bench_grading.go).
type benchCmd struct {
	suite       string
	opts        enginebench.Options
	submissions int    // grading: the burst's size
	db          string // grading: a PostgreSQL database to measure too
}

func parseBench(args []string) (command, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c := &benchCmd{}
	fs.DurationVar(&c.opts.Duration, "duration", 2*time.Second, "measured time of each echo run")
	fs.IntVar(&c.opts.Repeats, "repeats", 3, "echo runs per server; the median is reported")
	fs.IntVar(&c.submissions, "submissions", 100, "grading: submissions in the burst")
	fs.StringVar(&c.db, "db", "", "grading: a throwaway postgres:// database, to measure lab worker setups too")
	suite, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(suite) != 1 || !slices.Contains([]string{"engine", "web", "grading"}, suite[0]) {
		return nil, fmt.Errorf("%w: bench needs a suite name: engine, web or grading", errUsage)
	}
	if c.db != "" && !isPostgres(c.db) {
		return nil, fmt.Errorf("%w: --db takes a postgres:// URL", errUsage)
	}
	c.suite = suite[0]
	return c, nil
}

func (c *benchCmd) run(ctx context.Context, m *Main) error {
	switch c.suite {
	case "web":
		return benchWeb(ctx, m)
	case "grading":
		return benchGrading(ctx, m, c.submissions, c.db)
	}
	c.opts.Progress = m.Stderr
	return benchEngine(ctx, m, c.opts)
}

// benchWeb doubles the viewers of one live run until the p99 lag from
// append to receipt passes 100 ms: 300 events messages of 8 KiB, one every
// 5 ms (1.6 MB/s to each viewer), viewers in this process on the same
// cores.
func benchWeb(ctx context.Context, m *Main) error {
	const budget = 100 * time.Millisecond
	fmt.Fprintln(m.Stderr, "doubling websocket viewers of one live run until p99 lag > 100ms ...")
	steps, err := livebench.MaxViewers(ctx, budget, 300, 8<<10, 5*time.Millisecond)
	if err != nil {
		return fmt.Errorf("bench web: %w", err)
	}
	fmt.Fprintf(m.Stdout, "%8s %10s %10s %10s %8s %12s\n", "viewers", "p50", "p99", "max", "dropped", "p99/budget")
	best := 0
	for _, r := range steps {
		fmt.Fprintf(m.Stdout, "%8d %10v %10v %10v %8d %12.3f\n", r.Viewers, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond),
			r.Max.Round(time.Microsecond), r.Dropped, float64(r.P99)/float64(budget))
		if r.P99 <= budget && r.Dropped == 0 {
			best = r.Viewers
		}
	}
	fmt.Fprintf(m.Stdout, "\nviewers served within 100 ms at p99: %d\n", best)
	return nil
}
