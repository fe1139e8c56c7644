package enginebench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

// ChildEnv is the environment variable that turns a binary into an echo
// server child: its value is "name:port:msgsize". [ServeChild] reads it.
const ChildEnv = "ASYNCLAB_BENCH_SERVER"

// ProfileEnv, when set in a server child's environment, names a file the
// child writes its CPU profile to (runtime/pprof) before it exits.
const ProfileEnv = "ASYNCLAB_BENCH_CPUPROFILE"

// The names of the built-in echo servers.
const (
	ServerEpoll       = "epoll"       // our loop on the epoll backend
	ServerUring       = "uring"       // our loop on the io_uring backend
	ServerNet         = "net"         // Go's net package, a goroutine per connection
	ServerEpollTraced = "epoll+trace" // ServerEpoll with the recorder on and drained
	ServerUringTraced = "uring+trace" // ServerUring with the recorder on and drained
)

// Options configures [Run]. The zero value runs the full benchmark with the
// defaults given on each field.
type Options struct {
	// Batches are the NOP batch sizes of the ring sweep; default 1..256 in
	// powers of two.
	Batches []int
	// NOPOps is the number of NOPs per batch size per repeat; default 262144.
	NOPOps int
	// NOPRepeats is how many times each sweep runs; the median is kept.
	// Default 5.
	NOPRepeats int
	// LoopBatches are the batch sizes of the NOP sweep through the loop,
	// traced and untraced; default 1 and 64.
	LoopBatches []int
	// Sweeps are other NOP sweeps to run next to ours, such as liburing's.
	Sweeps []Sweep

	// Conns, MsgSize: the echo's connections (default 100) and message
	// size in bytes (default 128).
	Conns   int
	MsgSize int
	// Warmup and Duration: each echo run first warms up (default 300 ms),
	// then measures for Duration (default 2 s).
	Warmup   time.Duration
	Duration time.Duration
	// Repeats is how many times each echo server runs; the median is kept.
	// Default 3.
	Repeats int
	// Servers limits the echo to the servers with these names (built-in
	// and extra); nil runs all of them.
	Servers []string

	// ServerCPU and LoadCPU are the CPUs the server child and the load
	// generator are pinned to; defaults 0 and 1. The micro benchmarks run
	// on ServerCPU. With a single CPU nothing is pinned.
	ServerCPU, LoadCPU int

	// SkipNOP, SkipLoop and SkipEcho leave a part out.
	SkipNOP, SkipLoop, SkipEcho bool

	// ProfileDir, if set, makes every server child write a CPU profile of
	// its run to ProfileDir/<server>.pprof (the last repeat wins). The
	// profiler's own cost is then in the figures, so use it to find out
	// why, not to measure.
	ProfileDir string

	// Targets are ratio targets checked in addition to [DefaultTargets].
	Targets []Target

	// Progress, if set, receives one line per finished measurement.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if len(o.Batches) == 0 {
		o.Batches = []int{1, 2, 4, 8, 16, 32, 64, 128, 256}
	}
	if o.NOPOps <= 0 {
		o.NOPOps = 1 << 18
	}
	if o.NOPRepeats <= 0 {
		o.NOPRepeats = 5
	}
	if len(o.LoopBatches) == 0 {
		o.LoopBatches = []int{1, 64}
	}
	if o.Conns <= 0 {
		o.Conns = 100
	}
	if o.MsgSize <= 0 {
		o.MsgSize = 128
	}
	if o.Warmup <= 0 {
		o.Warmup = 300 * time.Millisecond
	}
	if o.Duration <= 0 {
		o.Duration = 2 * time.Second
	}
	if o.Repeats <= 0 {
		o.Repeats = 3
	}
	if o.ServerCPU == 0 && o.LoadCPU == 0 {
		o.LoadCPU = 1
	}
	return o
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Server is an echo server that the benchmark starts in a child process.
type Server struct {
	// Name identifies the server in the child's environment and in the
	// tables. It must not contain ':'.
	Name string
	// Serve runs in the child. It listens on 127.0.0.1:cfg.Port and echoes
	// every byte back until the process exits; it should return only on
	// error. The child is pinned to one CPU.
	Serve func(ctx context.Context, cfg ServeConfig) error
	// Procs is the child's GOMAXPROCS; default 1.
	Procs int
}

// ServeConfig is what a [Server] gets in the child.
type ServeConfig struct {
	Port    int
	MsgSize int
	// Stats is where a traced server reports what its recorder did. It is
	// safe for concurrent use.
	Stats *ServerStats
}

// ServerStats is what a server child reports besides its CPU time.
type ServerStats struct {
	Events  atomic.Uint64 // trace events drained
	Dropped atomic.Uint64 // trace events lost because the ring was full

	loopCPU atomic.Pointer[func() int64]
}

// SetLoopCPU lets a server whose event loop runs on one OS thread report
// that thread's CPU time: read must return the loop thread's user plus
// system time in nanoseconds (see [ThreadCPU], which has to run on that
// thread), or -1 if it cannot. The child calls read at each mark, from
// another goroutine. A server that never calls SetLoopCPU shows "-".
func (s *ServerStats) SetLoopCPU(read func() int64) { s.loopCPU.Store(&read) }

// LoopCPU returns the loop thread's CPU time in nanoseconds, or -1 when
// the server did not say how to read it or the read failed.
func (s *ServerStats) LoopCPU() int64 {
	if read := s.loopCPU.Load(); read != nil {
		return (*read)()
	}
	return -1
}

// Sweep is a NOP sweep run next to ours in the same run, such as the same
// loop written in C on liburing.
type Sweep struct {
	Name string
	// Run measures ops NOPs at each batch size and returns the cost per
	// NOP in nanoseconds by batch size. It is called on a locked OS thread
	// pinned to the benchmark CPU, so a process it starts inherits the
	// pinning.
	Run func(ctx context.Context, batches []int, ops int) (map[int]float64, error)
}

// Target is a ratio with an upper bound that the run either meets or not.
type Target struct {
	Name string  // shown in the table, such as "uring CPU/echo ÷ epoll CPU/echo"
	Num  string  // key of the numerator, see [Report.Value]
	Den  string  // key of the denominator
	Max  float64 // the ratio must be ≤ Max; 0 means no bound (informational)
}

// DefaultTargets are the targets that [Run] checks without help: the
// io_uring server's CPU per echo against the epoll server's, and the cost
// of tracing.
func DefaultTargets(o Options) []Target {
	o = o.withDefaults()
	ts := []Target{
		{Name: "uring CPU/echo ÷ epoll CPU/echo", Num: EchoKey(ServerUring, "cpu"), Den: EchoKey(ServerEpoll, "cpu"), Max: 0.85},
		{Name: "epoll echo process CPU: traced ÷ untraced", Num: EchoKey(ServerEpollTraced, "cpu"), Den: EchoKey(ServerEpoll, "cpu"), Max: 1.05},
		{Name: "epoll echo loop-thread CPU: traced ÷ untraced", Num: EchoKey(ServerEpollTraced, "loopcpu"), Den: EchoKey(ServerEpoll, "loopcpu"), Max: 1.05},
		{Name: "uring echo process CPU: traced ÷ untraced", Num: EchoKey(ServerUringTraced, "cpu"), Den: EchoKey(ServerUring, "cpu"), Max: 1.05},
		{Name: "uring echo loop-thread CPU: traced ÷ untraced", Num: EchoKey(ServerUringTraced, "loopcpu"), Den: EchoKey(ServerUring, "loopcpu"), Max: 1.05},
	}
	for _, b := range o.LoopBatches {
		ts = append(ts, Target{Name: fmt.Sprintf("loop NOP B=%d: traced ÷ untraced", b),
			Num: LoopKey(true, b), Den: LoopKey(false, b), Max: 1.05})
	}
	ts = append(ts,
		Target{Name: "net CPU/echo ÷ epoll CPU/echo", Num: EchoKey(ServerNet, "cpu"), Den: EchoKey(ServerEpoll, "cpu")},
	)
	return ts
}

// NOPKey is the key of the cost per NOP of a sweep ("ring" for ours) at a
// batch size.
func NOPKey(sweep string, batch int) string { return "nop/" + sweep + "/" + strconv.Itoa(batch) }

// LoopKey is the key of the cost per NOP through the loop.
func LoopKey(traced bool, batch int) string {
	if traced {
		return "loop/traced/" + strconv.Itoa(batch)
	}
	return "loop/untraced/" + strconv.Itoa(batch)
}

// EchoKey is the key of an echo figure: "rps", "p50", "p99" (µs), "cpu"
// (µs of server process CPU per echo) or "loopcpu" (µs of the server's
// loop-thread CPU per echo).
func EchoKey(server, what string) string { return "echo/" + server + "/" + what }

// Keys of the baselines.
const (
	KeyEpollRead = "base/epoll+read"
	KeyGetpid    = "base/getpid"
)

// Machine describes where the run happened.
type Machine struct {
	CPUs   int
	Model  string
	Kernel string
	Go     string
	Notes  []string // pinning, library versions and the like
}

// NOPPoint is the ring NOP cost at one batch size.
type NOPPoint struct {
	Batch     int
	Ring      float64            // ns per NOP, our ring
	EntersPer float64            // io_uring_enter calls per NOP, our ring
	Others    map[string]float64 // ns per NOP by sweep name
}

// LoopPoint is the NOP cost through the loop at one batch size.
type LoopPoint struct {
	Batch            int
	Untraced, Traced float64 // ns per NOP
	EventsPer        float64 // trace events per NOP when traced
	Dropped          uint64  // trace events lost when traced
}

// EchoResult is the median of the repeats of one echo server.
type EchoResult struct {
	Server     string
	Repeats    int
	RPS        float64 // echoes per second
	P50, P99   time.Duration
	CPU        float64 // server process CPU µs per echo (median)
	CPUMin     float64 // smallest and largest CPU µs per echo over the repeats
	CPUMax     float64
	LoopCPU    float64 // CPU µs per echo of the server's loop thread (median); 0 if not measured
	LoopCPUMin float64
	LoopCPUMax float64
	EventsPer  float64 // trace events per echo (traced servers)
	Dropped    uint64  // trace events lost (traced servers, summed)
	Echoes     uint64  // echoes counted, summed over the repeats
	Mismatches uint64  // echoes that differed from what was sent (must be 0)
}

// Report is the outcome of [Run].
type Report struct {
	Machine   Machine
	Opts      Options
	NOP       []NOPPoint
	EpollRead float64 // ns per op: one epoll_wait that finds the fd ready + one read
	Getpid    float64 // ns per getpid through unix.Syscall
	Sweeps    []string
	Loop      []LoopPoint
	Echo      []EchoResult
	Targets   []Target
}

// Value returns the figure with the given key (see [NOPKey], [LoopKey],
// [EchoKey], [KeyEpollRead], [KeyGetpid]) and whether the run measured it.
func (r Report) Value(key string) (float64, bool) {
	switch key {
	case KeyEpollRead:
		return r.EpollRead, r.EpollRead > 0
	case KeyGetpid:
		return r.Getpid, r.Getpid > 0
	}
	for _, p := range r.NOP {
		if key == NOPKey("ring", p.Batch) {
			return p.Ring, p.Ring > 0
		}
		for name, v := range p.Others {
			if key == NOPKey(name, p.Batch) {
				return v, v > 0
			}
		}
	}
	for _, p := range r.Loop {
		if key == LoopKey(false, p.Batch) {
			return p.Untraced, p.Untraced > 0
		}
		if key == LoopKey(true, p.Batch) {
			return p.Traced, p.Traced > 0
		}
	}
	for _, e := range r.Echo {
		switch key {
		case EchoKey(e.Server, "rps"):
			return e.RPS, e.RPS > 0
		case EchoKey(e.Server, "p50"):
			return float64(e.P50) / 1e3, e.P50 > 0
		case EchoKey(e.Server, "p99"):
			return float64(e.P99) / 1e3, e.P99 > 0
		case EchoKey(e.Server, "cpu"):
			return e.CPU, e.CPU > 0
		case EchoKey(e.Server, "loopcpu"):
			return e.LoopCPU, e.LoopCPU > 0
		}
	}
	return 0, false
}

// TargetResult is a target evaluated on a report.
type TargetResult struct {
	Target
	Ratio    float64
	Measured bool // both figures were measured
	Met      bool
}

// Check evaluates the report's targets.
func (r Report) Check() []TargetResult {
	var out []TargetResult
	for _, t := range r.Targets {
		res := TargetResult{Target: t}
		num, ok1 := r.Value(t.Num)
		den, ok2 := r.Value(t.Den)
		if ok1 && ok2 {
			res.Measured = true
			res.Ratio = num / den
			res.Met = t.Max == 0 || res.Ratio <= t.Max
		}
		out = append(out, res)
	}
	return out
}

// EchoFor returns the result for the named server.
func (r Report) EchoFor(server string) (EchoResult, bool) {
	for _, e := range r.Echo {
		if e.Server == server {
			return e, true
		}
	}
	return EchoResult{}, false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
