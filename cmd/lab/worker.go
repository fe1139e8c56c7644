package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/queue"
	"github.com/asynclab/asynclab/web"
)

// workerCmd is `lab worker`: a process on another machine that grades
// submissions from a queue in PostgreSQL and records them in the store
// there, for a lab serve whose students wait on them.
type workerCmd struct {
	db, dataDir      string
	practice, submit int
	drain            time.Duration
	timing           queueTiming
}

func parseWorker(args []string) (command, error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c := &workerCmd{}
	fs.StringVar(&c.db, "db", "", "the postgres:// URL lab serve --db uses (required)")
	fs.StringVar(&c.dataDir, "data", "lab-data", "where this worker keeps its build cache")
	fs.IntVar(&c.submit, "submit-workers", 1, "submissions graded at once")
	fs.IntVar(&c.practice, "practice-workers", 0, "practice runs graded at once (usually the web node's)")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "on SIGTERM, how long to let the runs being graded finish")
	c.timing.flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := c.timing.check(); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("%w: worker takes no arguments", errUsage)
	case !isPostgres(c.db):
		return nil, fmt.Errorf("%w: worker needs --db postgres://..., the database lab serve --db uses", errUsage)
	case c.practice < 0 || c.submit < 0 || c.practice+c.submit == 0:
		return nil, fmt.Errorf("%w: worker needs at least one worker in some lane", errUsage)
	}
	return c, nil
}

func (c *workerCmd) run(ctx context.Context, m *Main) error {
	if m.LogLevel != nil {
		m.LogLevel.Set(slog.LevelInfo) // a server's log tells what it did
	}
	// A worker that cannot sandbox takes no jobs: it would fail every one.
	if err := sandbox.Ready(); err != nil {
		return fmt.Errorf("worker: this host cannot run the sandbox, so it takes no jobs (lab doctor says why): %w", err)
	}
	lock, err := claimDataDir(m, c.dataDir)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer lock.Close()
	gr, err := prepareGrader(ctx, m, c.dataDir)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	workers := map[queue.Lane]int{queue.Practice: c.practice, queue.Submission: c.submit}
	var srv *web.Server
	dbs, err := openStores(ctx, c.db, c.dataDir, gradingQueue(&srv, workers, c.timing, m.Logger))
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer dbs.close()
	// The server that grades and records a run, without its pages: the
	// live view of a run graded here is the store's, once it is done.
	srv = web.New(web.Config{Exercises: catalog.All(), Store: dbs.store, Queue: dbs.queue, Workers: workers,
		Grader: func() web.Grader { return gr }, Logger: m.Logger})
	defer srv.Close()
	if err := dbs.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	fmt.Fprintf(m.Stderr, "worker ready: %d submission and %d practice workers\n", c.submit, c.practice)
	<-ctx.Done()
	drain(ctx, m, dbs.queue, c.drain)
	return nil
}
