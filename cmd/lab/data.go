package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// gcCmd is `lab gc`: what lab serve cleans up on its own, done by hand,
// with a report of what it freed. It is safe while a server runs on the
// same data directory: live builds are locked, and the store takes turns.
type gcCmd struct {
	dataDir      string
	keepPractice time.Duration
}

func parseGC(args []string) (command, error) {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	c := &gcCmd{}
	fs.StringVar(&c.dataDir, "data", "lab-data", "the data directory of lab serve")
	fs.DurationVar(&c.keepPractice, "keep-practice", labs.DefaultKeepPractice, "prune finished practice runs older than this (submissions are kept); 0 prunes none")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: gc takes no arguments", errUsage)
	}
	return c, nil
}

func (c *gcCmd) run(ctx context.Context, m *Main) error {
	db := filepath.Join(c.dataDir, "lab.db")
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("gc: %s is not a lab's data directory: %w", c.dataDir, err)
	}
	sw, err := builder.Sweep(ctx, filepath.Join(c.dataDir, "build"))
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	fmt.Fprintf(m.Stdout, "build directories left by stopped processes: %d removed, %s freed\n", sw.Dirs, mib(sw.Bytes))
	store, err := sqlite.Open(ctx, db)
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	defer store.Close()
	before, _ := fileSize(db)
	p, err := labs.Retention{KeepPractice: c.keepPractice}.Prune(ctx, store)
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	after, _ := fileSize(db)
	fmt.Fprintf(m.Stdout, "practice runs older than %s: %d pruned with %d traces, %s of code, results and traces\n",
		c.keepPractice, p.Runs, p.Traces, mib(p.Bytes))
	fmt.Fprintf(m.Stdout, "the store: %s before, %s after\n", mib(before), mib(after))
	return nil
}

// backupCmd is `lab backup`: a consistent copy of the store, taken while
// the server runs.
type backupCmd struct {
	dataDir, to string
}

func parseBackup(args []string) (command, error) {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	c := &backupCmd{}
	fs.StringVar(&c.dataDir, "data", "lab-data", "the data directory of lab serve")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, fmt.Errorf("%w: backup takes the file to write", errUsage)
	}
	c.to = fs.Arg(0)
	return c, nil
}

func (c *backupCmd) run(ctx context.Context, m *Main) error {
	db := filepath.Join(c.dataDir, "lab.db")
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("backup: %s is not a lab's data directory: %w", c.dataDir, err)
	}
	if _, err := os.Stat(c.to); err == nil {
		return fmt.Errorf("backup: %s exists; name a new file", c.to)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	store, err := sqlite.Open(ctx, db)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer store.Close()
	if err := store.Backup(ctx, c.to); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, _ := fileSize(c.to)
	fmt.Fprintf(m.Stdout, "backed up %s to %s (%s); serve it with: lab serve --data DIR, after copying it to DIR/lab.db\n", db, c.to, mib(n))
	return nil
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// mib prints a byte count in MiB with one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
