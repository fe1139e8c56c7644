package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/internal/rlimit"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/queue"
	"github.com/asynclab/asynclab/web"
)

// minOpenFiles is the open-files limit below which lab serve warns.
const minOpenFiles = 16384

// serveCmd is `lab serve`: the web lab in open mode.
type serveCmd struct {
	addr    string
	url     string // the address people reach the lab at, for the links it prints
	dataDir string
	db      string // "" for SQLite in dataDir, or a postgres:// URL
	// practice and submit are how many runs of each queue lane this
	// server grades at once.
	practice, submit int
	// keepPractice is how long finished practice runs are kept; 0 keeps
	// them all.
	keepPractice time.Duration
	// drain is how long a stopping server lets the runs in flight finish.
	drain time.Duration
	// memLimit is the Go runtime's soft memory limit; 0 keeps GOMEMLIMIT.
	memLimit int64
	timing   queueTiming
	// ready receives the listening address once the server is up (tests).
	ready chan<- string
}

func parseServe(args []string) (command, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := &serveCmd{}
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.url, "url", "", "the lab's address as people reach it (https://lab.example.edu), for the links it prints; default http:// and the listening address")
	fs.StringVar(&c.dataDir, "data", "lab-data", "where builds, results and traces are kept")
	fs.StringVar(&c.db, "db", "", "a postgres:// URL to keep runs and the queue in PostgreSQL; empty for SQLite files in the data directory")
	fs.IntVar(&c.practice, "practice-workers", 1, "practice runs graded at once (they never wait behind submissions)")
	fs.IntVar(&c.submit, "submit-workers", 1, "submissions graded at once, fairly across students")
	fs.Int64Var(&c.memLimit, "memory-limit", 512<<20, "the Go runtime's soft memory limit in bytes, which makes the collector work harder near it (0 keeps GOMEMLIMIT)")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "on SIGTERM or Ctrl-C, how long to let the runs being graded finish before cutting them short (they are graded again at the next start)")
	fs.DurationVar(&c.keepPractice, "keep-practice", labs.DefaultKeepPractice, "how long finished practice runs are kept (submissions always are); 0 keeps them all")
	c.timing.flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := c.timing.check(); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: serve takes no arguments", errUsage)
	}
	if c.db != "" && !isPostgres(c.db) {
		return nil, fmt.Errorf("%w: --db takes a postgres:// URL", errUsage)
	}
	// Submissions may be left to lab worker processes on a shared
	// database; practice runs are the web node's own.
	if c.practice < 1 || c.submit < 0 || (c.submit == 0 && c.db == "") {
		return nil, fmt.Errorf("%w: serve needs a practice worker, and a submission worker unless lab worker processes share its --db", errUsage)
	}
	return c, nil
}

func (c *serveCmd) run(ctx context.Context, m *Main) error {
	if m.LogLevel != nil {
		m.LogLevel.Set(slog.LevelInfo) // a server's log tells what it did
	}
	if c.memLimit > 0 {
		debug.SetMemoryLimit(c.memLimit)
	}
	// The Go runtime raised the soft limit on open files to the hard one
	// at start; each connection, websocket and box takes descriptors, and
	// a class needs thousands.
	if n, ok := rlimit.OpenFiles(); ok && n < minOpenFiles {
		m.Logger.Warn("the open files limit is low for a class: raise the hard limit (ulimit -Hn, LimitNOFILE=)",
			"limit", n, "want", minOpenFiles)
	}
	lock, err := claimDataDir(m, c.dataDir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer lock.Close()
	var g atomic.Pointer[grading.Grader]
	var preparing sync.WaitGroup
	// The grader's preparation writes under the data directory: let it
	// finish (or see ctx and stop) before run returns.
	defer preparing.Wait()
	// The host's capabilities do not change while the server runs, and
	// checking them starts a probe box: check once, not on every page.
	readyErr := sandbox.Ready()
	workers := map[queue.Lane]int{queue.Practice: c.practice, queue.Submission: c.submit}
	var srv *web.Server
	dbs, err := openStores(ctx, c.db, c.dataDir, gradingQueue(&srv, workers, c.timing, m.Logger))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer dbs.close()
	store, q := dbs.store, dbs.queue
	// Old practice runs are pruned now and every hour, while the server
	// runs.
	var pruning sync.WaitGroup
	pruneCtx, stopPruning := context.WithCancel(ctx)
	pruning.Go(func() { labs.Retention{KeepPractice: c.keepPractice}.Run(pruneCtx, store, m.Logger) })
	defer pruning.Wait()
	defer stopPruning()
	srv = web.New(web.Config{
		Exercises: catalog.All(),
		Store:     store,
		Queue:     q,
		Workers:   workers,
		Grader: func() web.Grader {
			if gr := g.Load(); gr != nil {
				return gr
			}
			return nil
		},
		Ready:  func() error { return readyErr },
		Logger: m.Logger,
	})
	// This server holds the data directory, and a SQLite queue with it:
	// a job running in its queue was left by one that is gone. On a
	// shared PostgreSQL queue River's rescuer does this, after the job
	// has run longer than a try may.
	if !dbs.shared {
		if n, err := q.Reclaim(ctx); err != nil {
			return fmt.Errorf("serve: %w", err)
		} else if n > 0 {
			fmt.Fprintf(m.Stderr, "%d run(s) were being graded when the last server stopped; they are back in line\n", n)
		}
	}
	// Runs a stopped server left unfinished go back in line (the queue
	// has most of them already): their code is in the store.
	if n, err := srv.Resume(ctx); err != nil {
		return fmt.Errorf("serve: resuming unfinished runs: %w", err)
	} else if n > 0 {
		fmt.Fprintf(m.Stderr, "resumed %d unfinished run(s)\n", n)
	}
	var queueStarted atomic.Bool
	defer func() {
		// Stopping: take no more jobs, and let the runs in flight finish
		// within the drain time; those still running then are cut short
		// and stay in line for the next server.
		preparing.Wait() // it may be starting the queue
		if queueStarted.Load() {
			drain(ctx, m, q, c.drain)
		}
		srv.Close()
	}()
	if err := readyErr; err != nil {
		fmt.Fprintf(m.Stderr, "grading is OFF on this host, and the lab will say why on every page: %v\n", err)
	} else {
		preparing.Add(1)
		go func() {
			defer preparing.Done()
			gr, err := prepareGrader(ctx, m, c.dataDir)
			if err != nil {
				m.Logger.Error("the grader could not start", "err", err)
				return
			}
			g.Store(gr)
			if ctx.Err() != nil {
				return
			}
			// The queue outlives ctx: stopping drains it (see above).
			if err := q.Start(context.WithoutCancel(ctx)); err != nil {
				m.Logger.Error("the queue could not start", "err", err)
				return
			}
			queueStarted.Store(true)
			fmt.Fprintln(m.Stderr, "grader ready")
		}()
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	base := c.url
	if base == "" {
		base = "http://" + displayAddr(ln.Addr())
	}
	fmt.Fprintf(m.Stdout, "asynclab is running: %s/\n", strings.TrimSuffix(base, "/"))
	if link, err := srv.Setup(ctx, base); err != nil {
		return fmt.Errorf("serve: first start: %w", err)
	} else if link != "" {
		fmt.Fprintf(m.Stdout, "Nobody has an account yet. To create the first instructor's, open this link (it works once, for a day; each start makes a new one):\n  %s\n", link)
	}
	if c.ready != nil {
		c.ready <- ln.Addr().String()
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// prepareGrader makes the builder and grader and warms the build cache.
func prepareGrader(ctx context.Context, m *Main, dir string) (*grading.Grader, error) {
	b, err := builder.New(builder.Config{Dir: filepath.Join(dir, "build"), Vendor: catalog.Harnesses(), Logger: m.Logger})
	if err != nil {
		return nil, err
	}
	if !b.Warm() {
		fmt.Fprintln(m.Stderr, "preparing the build sandbox: compiling the engine once into a build cache (about 15 s on an idle machine; later starts reuse it)...")
	}
	if err := b.Prepare(ctx); err != nil {
		return nil, err
	}
	return grading.New(grading.Config{Builder: b, Logger: m.Logger})
}
