// Package kit is the exercise harness's side inside the sandbox: it reads
// the run's arguments, starts a loop on the asked-for backend, streams the
// trace to the grader, calls the student's handler, and reports what the
// handler answered in marks the handler cannot forge.
//
// Only the harness imports kit; a handler may not.
package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
	"github.com/asynclab/asynclab/exercises/report"
)

// TraceFD is the descriptor the sandbox reads the trace from.
const TraceFD = 3

// handlerCPUProcs is GOMAXPROCS for a run that measures its handlers:
// enough Ps that a handler's goroutines do not queue for one, and few
// enough threads for the box's process limit (96). At 32, a handler with a
// goroutine for each of headofline's 30 requests took every P: the loop's
// goroutine, back from epoll_wait, found none free and waited in the Go
// scheduler's queue, asleep to the kernel, for 55 ms, which read as a
// callback blocked.
const handlerCPUProcs = 64

// gcMemoryLimit is the heap at which a run that measures its handlers
// collects garbage at all; the box's memory cgroup is larger.
const gcMemoryLimit = 64 << 20

// Args are the run's arguments, passed by the grader as JSON in argv[1].
type Args = report.Args

// Report prefixes of the harness's tagged marks, read by the grader (see
// package report).
const (
	ReportResult  = report.Result
	ReportError   = report.Error
	ReportFDs     = report.FDs
	ReportNever   = report.Never
	ReportValue   = report.Value
	ReportHarness = report.Harness
)

// Env is what the harness gives a driver: the loop, the arguments and a way
// to report.
type Env struct {
	Loop *engine.Loop
	// Recorder is the loop's recorder. The loop never hands it to the
	// handler, so only the harness can pause or read it.
	Recorder *trace.Recorder
	Args     Args
	done     bool
	reports  *trace.Recorder
	timers   *timerProbe // see WatchTimers
}

// ReportLoop is the loop id of the harness's own reports in the trace.
const ReportLoop = report.Loop

// mark records one of the harness's reports.
func (e *Env) mark(s string) {
	e.reports.Emit(trace.Event{Kind: trace.KindMark, Time: e.reports.Now(), Arg1: e.Args.Tag, Fd: -1,
		Name: e.reports.Intern(s)})
}

// Report records the handler's answer and ends the run shortly after, so
// that cleanup the handler queued still runs and shows in the trace.
func (e *Env) Report(format string, a ...any) {
	if e.done {
		e.mark(ReportError + "the handler answered more than once")
		return
	}
	e.done = true
	e.mark(ReportResult + fmt.Sprintf(format, a...))
	// Trusted peers may still be at work (a listener that accepts late):
	// the scenario's "linger" keeps the run alive for them.
	e.Harness().AfterFunc(EndOfRun, e.Args.Duration("linger", 20*time.Millisecond), e.Loop.Stop)
}

// EndOfRun names the harness's timer that ends the run after the answer.
const EndOfRun = report.EndOfRun

// Harness schedules the harness's own callbacks on the loop. They carry
// the run's tag, which the handler never sees, so the grader never charges
// the handler for them (a harness callback that a loaded machine stretched
// is not the handler's long callback). A callback that runs the handler's
// code is the handler's: schedule it on the Loop.
func (e *Env) Harness() engine.Harness { return e.Loop.Harness(e.Args.Tag) }

// Value records a measurement of the harness's, such as a ratio or a count.
func (e *Env) Value(name string, v float64) {
	e.mark(fmt.Sprintf("%s%s=%g", ReportValue, name, v))
}

// Main runs one scenario: it parses the arguments, calls drive on the loop,
// and streams the trace to the grader until the run ends. It never returns.
//
// Before drive runs, the process is barred from making io_uring rings
// (uring.ForbidNewRings): the loop's ring exists by then, and io_uring ops
// are invisible to the box's seccomp filter, so a ring the handler made for
// itself could open any socket. A harness that needs rings of its own
// makes them in MainWithSetup's setup.
func Main(drive func(e *Env)) { MainWithSetup(nil, drive) }

// MainWithSetup is Main with a setup step that runs on the loop, in its
// first callback, before new rings are forbidden: the place to make every
// ring the harness will hand out (Loop.NewRing). It must not call the
// handler. An error from setup ends the run with the report "the harness
// could not set up: ...", and drive is not called.
func MainWithSetup(setup func(e *Env) error, drive func(e *Env)) {
	var a Args
	if len(os.Args) < 2 || json.Unmarshal([]byte(os.Args[1]), &a) != nil {
		fmt.Fprintln(os.Stderr, "harness: bad arguments")
		os.Exit(2)
	}
	if a.Timeout <= 0 {
		a.Timeout = 3 * time.Second
	}
	if a.HandlerCPU {
		// The kernel, which HandlerCPU asks, sees the loop's thread asleep
		// whenever the Go scheduler holds the loop's goroutine off a P:
		// with more runnable goroutines than GOMAXPROCS, a handler that
		// only waited for a P behind the handler's own workers would look
		// blocked. With a P for each of them they wait for the CPU in the
		// kernel's run queue instead, which is counted as run delay. The
		// box's CPU quota, not GOMAXPROCS, is what limits them.
		runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), handlerCPUProcs))
		// A collection stops the world, and stopping it waits until every
		// running thread has been scheduled to notice. In a box starved of
		// CPU, with a handler's workers spinning on many threads, that
		// took 433 ms, which the kernel shows as the loop's thread asleep:
		// a callback blocked, by the measure the checks use. The run is
		// short and allocates little, so the collector only runs if the
		// heap nears gcMemoryLimit.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(gcMemoryLimit)
	}
	out := os.NewFile(TraceFD, "trace")
	rec := trace.NewRecorder(0, 1<<18, time.Now())
	reports := rec.ForLoop(ReportLoop, 256)
	ctx, stopStream := context.WithCancel(context.Background())
	streamed := make(chan error, 1)
	go func() { streamed <- trace.StreamAll(ctx, []*trace.Recorder{rec, reports}, out, 20*time.Millisecond) }()
	finish := func(code int) {
		stopStream()
		<-streamed
		os.Exit(code)
	}

	// The runtime opens its own poller (an epoll fd and an eventfd) the
	// first time a timer or a file needs it: make it do so now, so that the
	// count below is the handler's alone.
	time.Sleep(time.Microsecond)
	openFDs()
	before := openFDs()
	// stuck ends a run whose loop is stuck in a handler and cannot be
	// stopped from here: the loop has sealed its trace, with its lint, so
	// record why, seal the reports too (their writer is the stuck loop's
	// goroutine) and end the process with the trace there is.
	stuck := func(err error) {
		reports.EmitForeign(trace.Event{Kind: trace.KindMark, Time: rec.Now(), Arg1: a.Tag, Fd: -1,
			Name: reports.Intern(ReportError + err.Error())})
		reports.Seal()
		finish(0)
	}
	l := engine.New(engine.Config{Backend: a.Backend, Trigger: trigger(a), Recorder: rec, StallLimit: a.Timeout,
		HandlerCPU: a.HandlerCPU,
		OnStall:    func(err *engine.StallError) { stuck(err) },
		OnDeadlock: func(err *engine.DeadlockError) { stuck(err) }})
	env := &Env{Loop: l, Recorder: rec, Args: a, reports: reports}
	runCtx, cancel := context.WithTimeout(context.Background(), a.Timeout)
	defer cancel()
	err := env.Harness().Run(runCtx, "harness", func() {
		if setup != nil {
			if err := setup(env); err != nil {
				env.mark(ReportHarness + "the harness could not set up: " + err.Error())
				env.done = true
				l.Stop()
				return
			}
		}
		// Refuse to run the handler where new rings cannot be forbidden.
		if err := uring.ForbidNewRings(); err != nil {
			env.mark(ReportHarness + "the harness could not forbid new io_uring rings: " + err.Error())
			env.done = true
			l.Stop()
			return
		}
		drive(env)
	})
	// The reports recorder's writer is this goroutine, which ran the loop.
	tag := env.mark
	switch {
	case err == context.DeadlineExceeded && !env.done:
		tag(ReportNever + fmt.Sprintf("the handler did not answer within %v", a.Timeout))
	case err != nil && !handlerCaused(err):
		tag(ReportHarness + err.Error())
	case err != nil && err != context.DeadlineExceeded:
		tag(ReportError + err.Error())
		// The loop recovered the panic to end the run cleanly; its stack
		// is what tells the student which line it came from.
		var p *engine.PanicError
		if errors.As(err, &p) {
			fmt.Fprintf(os.Stderr, "panic: %s [recovered by the loop, in handler %q]\n\n%s", p.Value, p.Handler, p.Stack)
		}
	}
	if !env.done && err == nil {
		tag(ReportNever + "the loop stopped before the handler answered")
	}
	if env.timers != nil {
		env.Value(ValueTimerLate, float64(env.timers.Stop()))
	}
	after := openFDs()
	var leaked []string
	for fd, what := range after {
		if _, ok := before[fd]; !ok {
			leaked = append(leaked, fmt.Sprintf("%d=%s", fd, what))
		}
	}
	sort.Strings(leaked)
	tag(fmt.Sprintf("%s%d %s", ReportFDs, len(leaked), strings.Join(leaked, " ")))
	rec.Flush()
	reports.Flush()
	finish(0)
}

// handlerCaused says whether err, which ended a loop's run, is the
// handler's doing (a deadlock, a panic, a call off the loop, running out of
// time) rather than the loop's own failure to start.
func handlerCaused(err error) bool {
	var (
		d *engine.DeadlockError
		p *engine.PanicError
		o *engine.OffLoopError
		s *engine.StallError
	)
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &d) || errors.As(err, &p) ||
		errors.As(err, &o) || errors.As(err, &s)
}

// openFDs returns this process's open descriptors and what each one is.
func openFDs() map[int]string {
	fds := map[int]string{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fds
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		what, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		fds[fd] = what
	}
	return fds
}
