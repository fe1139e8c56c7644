package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/web"
)

// serveCmd is `lab serve`: the web lab in open mode.
type serveCmd struct {
	addr    string
	dataDir string
	// ready receives the listening address once the server is up (tests).
	ready chan<- string
}

func parseServe(args []string) (command, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := &serveCmd{}
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.dataDir, "data", "lab-data", "where builds, results and traces are kept")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: serve takes no arguments", errUsage)
	}
	return c, nil
}

func (c *serveCmd) run(ctx context.Context, m *Main) error {
	if n, err := sandbox.Cleanup(); err != nil {
		m.Logger.Warn("removing sandboxes of an earlier server", "err", err)
	} else if n > 0 {
		m.Logger.Info("removed sandboxes left by an earlier server", "count", n)
	}
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(c.dataDir, "lab.db"))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer store.Close()
	var g atomic.Pointer[grading.Grader]
	var preparing sync.WaitGroup
	// The grader's preparation writes under the data directory: let it
	// finish (or see ctx and stop) before run returns.
	defer preparing.Wait()
	// The host's capabilities do not change while the server runs, and
	// checking them starts a probe box: check once, not on every page.
	readyErr := sandbox.Ready()
	srv := web.New(web.Config{
		Exercises: catalog.All(),
		Store:     store,
		Grader: func() web.Grader {
			if gr := g.Load(); gr != nil {
				return gr
			}
			return nil
		},
		Ready:  func() error { return readyErr },
		Logger: m.Logger,
	})
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
			// Runs a stopped server left unfinished are graded now: their
			// code is in the store. They are found before the grader takes
			// new runs, which are then not found unfinished too.
			if n, err := srv.Resume(ctx, gr); err != nil {
				m.Logger.Error("resuming unfinished runs", "err", err)
			} else if n > 0 {
				fmt.Fprintf(m.Stderr, "resumed %d unfinished run(s)\n", n)
			}
			g.Store(gr)
			fmt.Fprintln(m.Stderr, "grader ready")
		}()
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(m.Stdout, "asynclab is running: http://%s/\n", displayAddr(ln.Addr()))
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
