// Command enginebench runs the engine's benchmarks in one go and prints
// one table: the NOP sweep on our ring next to the same sweep in C on
// liburing, the NOP sweep through the loop with tracing on and off, and the
// echo against our epoll and io_uring loops, Go's net and gnet v2, each
// server in its own pinned child process.
//
//	cd bench && go run ./cmd/enginebench
//
// It needs a C compiler and liburing (apt-get install -y liburing-dev) for
// the C sweep; -no-c leaves the sweep out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/asynclab/asynclab/internal/bench/enginebench"
)

func main() {
	// The echo servers are this binary started again; be one if asked.
	enginebench.ServeChild(gnetServer)

	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

// Main is the program: its options, and the temporary directory the C
// sweep is built in.
type Main struct {
	Opts  enginebench.Options
	CC    string
	CSrc  string // c/nop_sweep.c; found automatically when empty
	NoC   bool
	Quiet bool
	Out   io.Writer
	Err   io.Writer

	tmp string
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{CC: "cc", Out: os.Stdout, Err: os.Stderr}
}

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("enginebench", flag.ContinueOnError)
	o := &m.Opts
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "echo measurement window per run")
	fs.DurationVar(&o.Warmup, "warmup", 300*time.Millisecond, "echo warm-up per run")
	fs.IntVar(&o.Repeats, "repeats", 3, "echo runs per server (median)")
	fs.IntVar(&o.Conns, "conns", 100, "echo connections")
	fs.IntVar(&o.MsgSize, "size", 128, "echo message size in bytes")
	fs.IntVar(&o.NOPOps, "nop-ops", 1<<18, "NOPs per batch size per repeat")
	fs.IntVar(&o.NOPRepeats, "nop-repeats", 5, "NOP sweep repeats (median)")
	fs.IntVar(&o.ServerCPU, "server-cpu", 0, "CPU for the server child and the micro benchmarks")
	fs.IntVar(&o.LoadCPU, "load-cpu", 1, "CPU for the load generator")
	fs.StringVar(&o.ProfileDir, "profile-dir", "", "write each server child's CPU profile to DIR/<server>.pprof (adds profiler overhead)")
	servers := fs.String("servers", "", "comma-separated echo servers to run (epoll,uring,net,gnet,epoll+trace,uring+trace); empty: all")
	skip := fs.String("skip", "", "comma-separated parts to leave out: nop, loop, echo")
	fs.StringVar(&m.CC, "cc", m.CC, "C compiler for c/nop_sweep.c")
	fs.StringVar(&m.CSrc, "csrc", "", "path of c/nop_sweep.c (default: found from the working directory or the source tree)")
	fs.BoolVar(&m.NoC, "no-c", false, "leave out the liburing sweep")
	fs.BoolVar(&m.Quiet, "q", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *servers != "" {
		o.Servers = strings.Split(*servers, ",")
	}
	for _, part := range strings.Split(*skip, ",") {
		switch part {
		case "":
		case "nop":
			o.SkipNOP = true
		case "loop":
			o.SkipLoop = true
		case "echo":
			o.SkipEcho = true
		default:
			return fmt.Errorf("-skip: unknown part %q", part)
		}
	}
	return nil
}

// Run builds the C sweep, runs every benchmark and prints the table.
func (m *Main) Run(ctx context.Context) error {
	if !m.Quiet {
		m.Opts.Progress = m.Err
	}
	if !m.Opts.SkipNOP && !m.NoC {
		dir, err := os.MkdirTemp("", "enginebench-")
		if err != nil {
			return err
		}
		m.tmp = dir
		src := m.CSrc
		if src == "" {
			if src, err = findNOPSweep(); err != nil {
				return err
			}
		}
		bin, err := buildNOPSweep(ctx, m.CC, src, dir)
		if err != nil {
			return err
		}
		flags, err := ringSetupFlags()
		if err != nil {
			return fmt.Errorf("ring setup: %w", err)
		}
		m.Opts.Sweeps = append(m.Opts.Sweeps, liburingSweep(bin, flags, 256))
	}
	m.Opts.Targets = append(m.Opts.Targets,
		enginebench.Target{Name: "ring NOP ÷ liburing NOP, B=1", Num: enginebench.NOPKey("ring", 1), Den: enginebench.NOPKey("liburing", 1), Max: 1.2},
		enginebench.Target{Name: "ring NOP ÷ liburing NOP, B=64", Num: enginebench.NOPKey("ring", 64), Den: enginebench.NOPKey("liburing", 64), Max: 1.3},
		enginebench.Target{Name: "epoll CPU/echo ÷ gnet CPU/echo", Num: enginebench.EchoKey(enginebench.ServerEpoll, "cpu"), Den: enginebench.EchoKey("gnet", "cpu"), Max: 1},
		enginebench.Target{Name: "uring CPU/echo ÷ gnet CPU/echo", Num: enginebench.EchoKey(enginebench.ServerUring, "cpu"), Den: enginebench.EchoKey("gnet", "cpu")},
	)
	start := time.Now()
	r, err := enginebench.Run(ctx, m.Opts, gnetServer)
	if err != nil {
		return err
	}
	r.Machine.Notes = append(r.Machine.Notes, toolVersions(m.CC)...)
	r.Machine.Notes = append(r.Machine.Notes, fmt.Sprintf("whole run took %v", time.Since(start).Round(time.Second)))
	return r.WriteTable(m.Out)
}

// Close removes the temporary build directory.
func (m *Main) Close() error {
	if m.tmp == "" {
		return nil
	}
	return os.RemoveAll(m.tmp)
}

// toolVersions names the liburing and C compiler versions, when it can
// find them.
func toolVersions(cc string) []string {
	var notes []string
	if out, err := exec.Command("pkg-config", "--modversion", "liburing").Output(); err == nil {
		notes = append(notes, "liburing "+strings.TrimSpace(string(out))+" (Debian liburing-dev), gnet v2.9.7")
	}
	if out, err := exec.Command(cc, "--version").Output(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		notes = append(notes, "C compiler: "+first+", -O2")
	}
	return notes
}
