// Command lab is the asynclab binary: it runs the demo and exercises in a
// terminal, benchmarks the engine, and reports what the host supports.
//
//	lab serve [--addr :8080] [--data lab-data]
//	lab run demo [--backend epoll|uring|both]
//	lab run EXERCISE [--backend epoll|uring|both] [--file handler.go]
//	lab grade EXERCISE FILE... [--json]
//	lab doctor
//	lab bench engine|web|grading
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/asynclab/asynclab/engine/sandbox"
)

func main() {
	// The sandbox starts every box as this same binary (box-init), and
	// `lab bench` its echo servers: be one of those if asked, and nothing else.
	if sandbox.IsInit() {
		sandbox.InitMain()
	}
	if benchChild() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr)
	err := m.ParseFlags(ctx, os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	m.Close()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.Is(err, errChecksFailed):
		os.Exit(1)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  lab serve [--addr :8080] [--data lab-data] [--db postgres://...] [--practice-workers 1]
            [--submit-workers 1] [--keep-practice 168h] [--drain 30s]
                                              the web lab, in open mode
  lab worker --db postgres://... [--data lab-data] [--submit-workers 1] [--practice-workers 0]
                                              grade queued runs for a lab serve on the same database
  lab run demo [--backend epoll|uring|both]   run the demo and print a text timeline
  lab run EXERCISE [--backend ...] [--file handler.go]
                                              run a handler in every scenario of an exercise
  lab grade EXERCISE FILE... [--json]         grade a handler; exits non-zero unless every check passed
  lab doctor                                  report what this host supports
  lab gc [--data lab-data] [--keep-practice 168h]
                                              remove what killed processes left and prune old practice runs
  lab backup [--data lab-data] FILE           copy the store, consistently, while the server runs
  lab bench engine [--duration 2s]            benchmark the engine and print a table
  lab bench web                               websocket viewers of one run served within 100 ms
  lab bench grading [--submissions 100] [--db postgres://...]
                                              a burst of mixed submissions on real lab serve and lab worker processes
`

var errUsage = errors.New("lab: bad usage")

// Main is the program: the command parsed from the arguments, and where it
// writes. End-to-end tests drive it directly.
type Main struct {
	Stdout, Stderr io.Writer
	Logger         *slog.Logger
	// LogLevel is the Logger's level: warnings for a command, and
	// everything a server does (each request included) for serve and
	// worker.
	LogLevel *slog.LevelVar

	cmd command
}

// command is one subcommand, ready to run.
type command interface {
	run(ctx context.Context, m *Main) error
}

// NewMain returns a Main that writes to stdout and stderr.
//
// A server writes from several goroutines at once (its log, the grader's
// progress), so writes to stdout and stderr are serialised, under one lock
// for both: a caller may pass one writer for both.
func NewMain(stdout, stderr io.Writer) *Main {
	var mu sync.Mutex
	stdout, stderr = &lockedWriter{mu: &mu, w: stdout}, &lockedWriter{mu: &mu, w: stderr}
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	return &Main{Stdout: stdout, Stderr: stderr, LogLevel: level,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
}

// ParseFlags picks the subcommand and parses its flags.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	var err error
	switch args[0] {
	case "run":
		m.cmd, err = parseRun(args[1:])
	case "serve":
		m.cmd, err = parseServe(args[1:])
	case "grade":
		m.cmd, err = parseGrade(args[1:])
	case "doctor":
		m.cmd = doctorCmd{}
	case "worker":
		m.cmd, err = parseWorker(args[1:])
	case "gc":
		m.cmd, err = parseGC(args[1:])
	case "backup":
		m.cmd, err = parseBackup(args[1:])
	case "bench":
		m.cmd, err = parseBench(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return flag.ErrHelp
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	return err
}

// Run runs the parsed command.
func (m *Main) Run(ctx context.Context) error { return m.cmd.run(ctx, m) }

// Close releases what Run opened. The terminal commands hold nothing open
// after Run returns.
func (m *Main) Close() error { return nil }

// lockedWriter writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
