package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
)

// handlerTimes is how one handler spent its time, from its End event.
type handlerTimes struct {
	Dur, CPU, Delay int64
}

func (h handlerTimes) blocked() int64 { return h.Dur - h.CPU - h.Delay }

func (h handlerTimes) String() string {
	return fmt.Sprintf("dur %v = cpu %v + run-delay %v + blocked %v",
		time.Duration(h.Dur), time.Duration(h.CPU), time.Duration(h.Delay), time.Duration(h.blocked()))
}

// timeHandler runs fn as a handler on a HandlerCPU loop and returns what
// its End event says.
func timeHandler(t testing.TB, fn func()) handlerTimes {
	t.Helper()
	h, err := measureHandler(fn)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func measureHandler(fn func()) (handlerTimes, error) {
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	l := engine.New(engine.Config{Recorder: rec, HandlerCPU: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := l.Run(ctx, "main", func() {
		l.Queue("measured", func() {
			fn()
			l.Stop()
		})
	})
	if err != nil {
		return handlerTimes{}, fmt.Errorf("Run() = %w, want nil", err)
	}
	tr := rec.Snapshot()
	for _, e := range tr.Events {
		if e.Kind == trace.KindHandler && e.Phase == trace.PhaseEnd && tr.Name(e.Name) == "measured" {
			return handlerTimes{Dur: e.Dur, CPU: e.Arg0, Delay: e.Arg1}, nil
		}
	}
	return handlerTimes{}, errors.New("no end event for the measured handler")
}

// TestHandlerCPU tells a handler that computes from one that blocks. The
// bounds are shares of the handler's own duration, with wide margins: the
// kernel's CPU time may lag by up to a tick at each end, and a busy
// machine adds run delay to both.
func TestHandlerCPU(t *testing.T) {
	t.Run("spin", func(t *testing.T) {
		h := timeHandler(t, func() { spin(20 * time.Millisecond) })
		if h.CPU <= 0 || h.blocked() > h.Dur/4 {
			t.Errorf("a handler spinning 20ms: %v; want blocked < 25%% of it", h)
		}
	})
	t.Run("block", func(t *testing.T) {
		h := timeHandler(t, func() {
			ch := make(chan int)
			go func() {
				time.Sleep(20 * time.Millisecond)
				ch <- 1
			}()
			<-ch
		})
		// A busy machine adds run delay on waking up; what is left is
		// the handler's own, and it spent that blocked.
		if own := h.Dur - h.Delay; h.blocked() < own*3/4 {
			t.Errorf("a handler blocked 20ms on a channel: %v; want blocked > 75%% of the time not waiting for a CPU", h)
		}
	})
}

// TestHandlerCPUContention spins a handler while other goroutines spin, in
// a child process pinned to one CPU: the handler waits for the CPU, which
// is run delay, not blocked time. The Go scheduler keeps at most GOMAXPROCS
// goroutines on threads, so each case leaves a P for the loop; a goroutine
// the Go scheduler holds off its P sleeps as the kernel sees it, and
// counts as blocked (see Config.HandlerCPU). So does the loop's locked
// goroutine when the scheduler preempts it (after 10 ms of running): its
// thread sleeps until another thread, itself waiting behind the spinners
// for the one CPU, hands it back. On a loaded machine that has been a
// third of the time, so the test asks only that waiting for the CPU is
// the larger share; headofline's check charges a blocked callback only
// with work really done meanwhile, which a handoff does not do.
func TestHandlerCPUContention(t *testing.T) {
	tests := []struct {
		spinners, procs int
	}{
		{1, 2},
		{2, 3},
		{8, 32}, // as kit runs a handler it measures
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d spinners, GOMAXPROCS=%d", tt.spinners, tt.procs), func(t *testing.T) {
			h := onOneCPU(t, tt.spinners, tt.procs)
			t.Logf("spinning on one CPU: %v", h)
			if h.Delay < h.Dur/4 || h.blocked() > h.Delay {
				t.Errorf("a handler spinning 100ms among %d spinners on one CPU: %v; want run delay > 25%% of it, and more than it was blocked",
					tt.spinners, h)
			}
		})
	}
}

// TestHandlerCPUQuota spins a handler in a child process whose cgroup may
// use half a CPU: the time the kernel throttles the thread for the quota is
// run delay, not blocked time. (On Linux 6.18 with cgroup v1's cpu
// controller it is: a throttled thread is runnable, waiting.)
func TestHandlerCPUQuota(t *testing.T) {
	dir := quotaCgroup(t, 10*time.Millisecond, 20*time.Millisecond)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=0", gateEnv+"=1", "GOMAXPROCS=2")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if err := os.WriteFile(dir+"/cgroup.procs", []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		cmd.Process.Kill()
		t.Fatalf("move the child into %s: %v", dir, err)
	}
	stdin.Write([]byte("\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.Bytes())
	}
	var h handlerTimes
	if err := json.Unmarshal(resultLine(out.Bytes()), &h); err != nil {
		t.Fatalf("child said %q: %v", out.Bytes(), err)
	}
	t.Logf("spinning under a quota: %v", h)
	if h.Delay < h.Dur/4 || h.blocked() > h.Dur/4 {
		t.Errorf("a handler spinning 100ms under a quota of half a CPU: %v; want run delay > 25%% and blocked < 25%% of it", h)
	}
}

// quotaCgroup makes a cgroup below this process's own that may use quota
// of every period of CPU time, and removes it when the test ends. It uses
// the cgroup v1 cpu controller if one is mounted, else cgroup v2's.
func quotaCgroup(t *testing.T, quota, period time.Duration) string {
	t.Helper()
	mount, own, v2 := cpuController(t)
	dir := fmt.Sprintf("%s%s/engine-quota-test-%d", mount, own, os.Getpid())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup for a CPU quota (the test needs root): %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	us := func(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }
	var err error
	if v2 {
		err = os.WriteFile(dir+"/cpu.max", []byte(us(quota)+" "+us(period)), 0)
	} else if err = os.WriteFile(dir+"/cpu.cfs_period_us", []byte(us(period)), 0); err == nil {
		err = os.WriteFile(dir+"/cpu.cfs_quota_us", []byte(us(quota)), 0)
	}
	if err != nil {
		t.Fatalf("set the quota of %s: %v", dir, err)
	}
	return dir
}

// cpuController finds the cpu controller's mount and this process's
// cgroup under it, from /proc/self/mountinfo and /proc/self/cgroup.
func cpuController(t *testing.T) (mount, own string, v2 bool) {
	t.Helper()
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var v1Mount, v2Mount string
	for _, line := range strings.Split(string(info), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup":
			if slices.Contains(strings.Split(g[2], ","), "cpu") {
				v1Mount = f[4]
			}
		case "cgroup2":
			v2Mount = f[4]
		}
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v1Mount != "" && slices.Contains(strings.Split(parts[1], ","), "cpu") {
			return v1Mount, strings.TrimSuffix(parts[2], "/"), false
		}
		if v1Mount == "" && v2Mount != "" && parts[0] == "0" {
			return v2Mount, strings.TrimSuffix(parts[2], "/"), true
		}
	}
	t.Skip("no cgroup cpu controller is mounted")
	return "", "", false
}

// onOneCPU runs contentionChild in a child process pinned
// to one CPU and returns what it measured.
func onOneCPU(t *testing.T, spinners, procs int) handlerTimes {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(spinners), "GOMAXPROCS="+strconv.Itoa(procs))
	cmd.Stderr = os.Stderr
	// A forked child inherits the forking thread's affinity: pin this
	// thread, fork, and unpin it.
	runtime.LockOSThread()
	var was, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	for cpu := 0; cpu < 1024; cpu++ {
		if was.IsSet(cpu) {
			one.Set(cpu)
			break
		}
	}
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	out, err := cmd.Output()
	unix.SchedSetaffinity(0, &was)
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var h handlerTimes
	if err := json.Unmarshal(resultLine(out), &h); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	return h
}

// childPrefix marks the child's result line in its output.
const childPrefix = "handler times: "

func resultLine(b []byte) []byte {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if r, ok := bytes.CutPrefix(line, []byte(childPrefix)); ok {
			return r
		}
	}
	return nil
}

// childEnv makes the test binary TestHandlerCPUContention's child: the
// number of goroutines to spin.
const childEnv = "ENGINE_CPU_CHILD"

// TestMain lets the test binary act as TestHandlerCPUContention's child.
func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(childEnv)); err == nil {
		os.Exit(contentionChild(n))
	}
	os.Exit(m.Run())
}

// gateEnv makes the child wait for a line on stdin before it measures,
// while its parent moves it into a cgroup.
const gateEnv = "ENGINE_CPU_GATE"

// contentionChild spins a handler for 100ms while n goroutines spin, and
// prints what the handler's End event says.
func contentionChild(n int) int {
	if os.Getenv(gateEnv) != "" {
		var b [1]byte
		os.Stdin.Read(b[:])
	}
	var stop atomic.Bool
	var started atomic.Int32
	for range n {
		go func() {
			started.Add(1)
			for !stop.Load() {
			}
		}()
	}
	for started.Load() < int32(n) {
		runtime.Gosched()
	}
	h, err := measureHandler(func() { spin(100 * time.Millisecond) })
	stop.Store(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, _ := json.Marshal(h)
	fmt.Printf("%s%s\n", childPrefix, b)
	return 0
}

// BenchmarkHandlerCPU is the cost of HandlerCPU per handler: run it with
// and without, in one run, and compare. With one handler per turn every
// handler pays two schedstat reads; back-to-back handlers in one turn
// share the reading between them.
func BenchmarkHandlerCPU(b *testing.B) {
	for _, perTurn := range []int{1, 16} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("perTurn=%d/HandlerCPU=%v", perTurn, on), func(b *testing.B) {
				rec := trace.NewRecorder(0, 1<<16, time.Now())
				l := engine.New(engine.Config{Recorder: rec, HandlerCPU: on, TrustHandlers: true})
				// The bench drains the ring, as a harness would.
				ctx, stop := context.WithCancel(context.Background())
				defer stop()
				go drain(ctx, rec)
				n := 0
				var turn func()
				turn = func() {
					for range perTurn {
						if n++; n >= b.N {
							l.Stop()
							return
						}
						if n%perTurn == 0 {
							l.Queue("nop", turn) // the next turn's batch
						} else {
							l.Queue("nop", func() {})
						}
					}
				}
				b.ResetTimer()
				if err := l.Run(context.Background(), "main", turn); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

func drain(ctx context.Context, rec *trace.Recorder) {
	var buf []trace.Event
	for ctx.Err() == nil {
		buf = rec.Drain(buf[:0])
		time.Sleep(100 * time.Microsecond)
	}
}
