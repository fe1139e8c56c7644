package enginebench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ServeChild makes the process an echo server child when [ChildEnv] is
// set: it serves the named server (a built-in one or one of extra) and
// exits when its standard input closes, so it never returns. It returns
// false at once when the variable is not set. A main that calls [Run] must
// call ServeChild first, before doing anything else.
//
// The child answers each "m" line on standard input with a line
// "m <cpu-ns> <loop-cpu-ns> <events> <dropped>" on file descriptor 3: its
// own CPU time so far (utime+stime from getrusage RUSAGE_SELF), its loop
// thread's (see [ServerStats.SetLoopCPU]; -1 if unknown) and what its
// recorder reported. Its
// standard output goes to the parent's standard error, so that whatever a
// server library prints cannot garble the answers.
func ServeChild(extra ...Server) bool {
	v, ok := os.LookupEnv(ChildEnv)
	if !ok {
		return false
	}
	if err := serveChild(v, extra); err != nil {
		fmt.Fprintf(os.Stderr, "enginebench server child %q: %v\n", v, err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

func serveChild(spec string, extra []Server) error {
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return fmt.Errorf("%s=%q, want name:port:msgsize", ChildEnv, spec)
	}
	port, err1 := strconv.Atoi(parts[1])
	size, err2 := strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%s=%q: %w", ChildEnv, spec, err)
	}
	srv, ok := findServer(parts[0], extra)
	if !ok {
		return fmt.Errorf("no echo server named %q", parts[0])
	}
	cfg := ServeConfig{Port: port, MsgSize: size, Stats: new(ServerStats)}
	stopProfile := func() {}
	if path := os.Getenv(ProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
	}
	marks := os.NewFile(3, "marks")
	if marks == nil {
		return errors.New("no mark pipe on fd 3")
	}
	go answerMarks(os.Stdin, marks, cfg.Stats, stopProfile)
	err := srv.Serve(context.Background(), cfg)
	stopProfile()
	return err
}

func findServer(name string, extra []Server) (Server, bool) {
	for _, s := range append(Servers(), extra...) {
		if s.Name == name {
			return s, true
		}
	}
	return Server{}, false
}

// answerMarks serves the parent's CPU-time requests and ends the process
// when the parent closes the pipe.
func answerMarks(in io.Reader, out io.Writer, st *ServerStats, atExit func()) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "m" {
			continue
		}
		// The loop thread first: reading it goes through the loop, and the
		// process figure should include that trip.
		loop := st.LoopCPU()
		fmt.Fprintf(out, "m %d %d %d %d\n", selfCPU(), loop, st.Events.Load(), st.Dropped.Load())
	}
	atExit()
	os.Exit(0)
}

// selfCPU returns the process's user plus system time in nanoseconds.
func selfCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// ThreadCPU returns the calling OS thread's user plus system time in
// nanoseconds (getrusage RUSAGE_THREAD), or -1 on error. The caller should
// be locked to the thread it means.
func ThreadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// child is a running server child.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	outf *os.File
	out  *bufio.Reader
	done bool
}

// mark is one answer to "m".
type mark struct {
	cpu     int64
	loopCPU int64 // -1 when the server cannot tell
	events  uint64
	dropped uint64
}

// startChild starts this binary again as the server child for srv,
// pinned to cpu (when cpu >= 0) with GOMAXPROCS=srv.Procs, writing a CPU
// profile into profileDir if that is set.
func startChild(srv Server, port, msgSize, cpu int, profileDir string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d:%d", ChildEnv, srv.Name, port, msgSize),
		fmt.Sprintf("GOMAXPROCS=%d", max(srv.Procs, 1)))
	if profileDir != "" {
		cmd.Env = append(cmd.Env, ProfileEnv+"="+filepath.Join(profileDir, srv.Name+".pprof"))
	}
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	// The fork happens on this locked, pinned thread, so every thread of
	// the child inherits the pinning from its first instruction.
	err = onCPU(cpu, cmd.Start)
	w.Close()
	if err != nil {
		out.Close()
		in.Close()
		return nil, fmt.Errorf("start server child %s: %w", srv.Name, err)
	}
	return &child{cmd: cmd, in: in, outf: out, out: bufio.NewReader(out)}, nil
}

// mark asks the child for its CPU time, its loop thread's and its trace
// counts.
func (c *child) mark() (mark, error) {
	if _, err := io.WriteString(c.in, "m\n"); err != nil {
		return mark{}, fmt.Errorf("ask server child: %w", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return mark{}, fmt.Errorf("read server child: %w", err)
	}
	var m mark
	if _, err := fmt.Sscanf(line, "m %d %d %d %d\n", &m.cpu, &m.loopCPU, &m.events, &m.dropped); err != nil {
		return mark{}, fmt.Errorf("server child said %q: %w", line, err)
	}
	return m, nil
}

// stop closes the child's standard input, which makes it exit, and
// returns its whole CPU time (utime+stime) from wait4's rusage.
func (c *child) stop() (cpu int64, err error) {
	if c.done {
		return 0, errors.New("server child already stopped")
	}
	c.done = true
	c.in.Close()
	defer c.outf.Close()
	timer := time.AfterFunc(10*time.Second, func() { c.cmd.Process.Kill() })
	defer timer.Stop()
	if err := c.cmd.Wait(); err != nil {
		return 0, fmt.Errorf("server child: %w", err)
	}
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("no rusage for server child")
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), nil
}

// kill ends a child that is still running.
func (c *child) kill() {
	if !c.done {
		c.done = true
		c.cmd.Process.Kill()
		c.cmd.Wait()
		c.outf.Close()
	}
}

// onCPU runs fn on a locked OS thread pinned to cpu, then restores the
// thread's affinity. A cpu below zero means no pinning.
func onCPU(cpu int, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu < 0 {
		return fn()
	}
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("sched_setaffinity cpu %d: %w", cpu, err)
	}
	defer unix.SchedSetaffinity(0, &old)
	return fn()
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	return sa.(*unix.SockaddrInet4).Port, nil
}
