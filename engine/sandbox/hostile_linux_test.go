package sandbox

// The hostile suite: each test runs a real attack on the real kernel
// under tight limits and checks the specific verdict, what the attack
// could do, and (through run) that the host is left as it was.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestForkBomb(t *testing.T) {
	res := run(t, boxSpec(t, "hostile/forkbomb", tight()))
	wantVerdict(t, res, VerdictTimeLimit)
	got := lines(res.Stdout)
	found := false
	for k, v := range got {
		if strings.HasPrefix(k, "fork refused after") {
			found = true
			if v[0] != "EAGAIN" {
				t.Errorf("%s = %q, want EAGAIN (the pids limit)", k, v)
			}
		}
	}
	if !found {
		t.Errorf("the bomb never saw a fork refused")
	}
}

// A Go crash is a runtime error named by its first line, even when its
// goroutine dump floods stderr past the cap, or comes after a log that
// did, or is still being written when the wall time runs out; a flood
// without a crash is the output limit. The head and tail of
// stderr are kept whatever the cap.
func TestCrashVerdicts(t *testing.T) {
	lim := tight()
	pidsNote := fmt.Sprintf("hit the limit of %d processes/threads", lim.Pids)
	const threadCrash = "runtime: failed to create new OS thread"
	tests := []struct {
		name        string
		prog        string
		args        []string
		verdict     Verdict
		crash       string   // Crash's prefix; "" wants none
		reason      []string // in Reason
		notReason   string
		minStderr   int64         // StderrBytes at least
		tail        []string      // in StderrTail
		stderrAbove bool          // StderrBytes above the cap
		pastWall    bool          // the run may reach the wall time (a dump a loaded machine slows)
		wall        time.Duration // the wall limit, if not tight()'s
	}{
		{name: "thread bomb", prog: "hostile/threadbomb", verdict: VerdictRuntimeError,
			crash: threadCrash, reason: []string{"crashed: " + threadCrash, pidsNote}},
		{name: "thread bomb dumps past the cap", prog: "hostile/threadbomb", args: []string{"5000"},
			verdict: VerdictRuntimeError, crash: threadCrash, reason: []string{"crashed: " + threadCrash, pidsNote},
			stderrAbove: true, tail: []string{"goroutine "}, pastWall: true},
		{name: "panic after 2 MiB of log", prog: "hostile/logcrash", args: []string{"2097152", "panic"},
			verdict: VerdictRuntimeError, crash: "panic: boom after the log",
			reason: []string{"crashed: panic: boom after the log"}, notReason: pidsNote,
			minStderr: 2 << 20, tail: []string{"last words\npanic: boom after the log\n\ngoroutine 1 [running]:"}},
		{name: "panic within the cap", prog: "hostile/logcrash", args: []string{"100", "panic"},
			verdict: VerdictRuntimeError, crash: "panic: boom after the log",
			reason: []string{"crashed: panic: boom after the log"}, notReason: pidsNote},
		{name: "2 MiB of log, then exit 0", prog: "hostile/logcrash", args: []string{"2097152", "exit"},
			verdict: VerdictOutputLimit, reason: []string{"stderr exceeded 64 KiB"}, minStderr: 2 << 20,
			tail: []string{"last words\n"}},
		{name: "a crash's dump outlasts the wall time", prog: "hostile/logcrash", args: []string{"0", "dump-slowly", "3500ms"},
			verdict: VerdictRuntimeError, crash: "panic: boom after the log",
			reason: []string{"crashed: panic: boom after the log"}, notReason: "exceeded", pastWall: true},
		{name: "a crash's dump never ends", prog: "hostile/logcrash", args: []string{"0", "dump-forever"},
			verdict: VerdictTimeLimit, crash: "panic: boom after the log", reason: []string{"time exceeded 3s"}, pastWall: true},
		// A wall limit past stderr's grace (at most 10 s): under a full CI
		// run with the race detector, reading the flood's 16 MiB of slack
		// once took longer than tight()'s 3 s, and the clock, not the
		// flood, ended the run.
		{name: "flood", prog: "hostile/flood", args: []string{"2"}, wall: 20 * time.Second,
			verdict: VerdictOutputLimit, reason: []string{"stderr exceeded 64 KiB"}, stderrAbove: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := lim
			if tc.wall > 0 {
				lim.Wall = tc.wall
			}
			res := run(t, boxSpec(t, tc.prog, lim, tc.args...))
			wantVerdict(t, res, tc.verdict)
			t.Logf("Crash = %q, StderrBytes = %d, StderrHead %d bytes, StderrTail %d bytes",
				res.Crash, res.StderrBytes, len(res.StderrHead), len(res.StderrTail))
			if tc.crash == "" && res.Crash != "" || !strings.HasPrefix(res.Crash, tc.crash) {
				t.Errorf("Crash = %q, want %q...", res.Crash, tc.crash)
			}
			for _, w := range tc.reason {
				if !strings.Contains(res.Reason, w) {
					t.Errorf("Reason = %q, want it to say %q", res.Reason, w)
				}
			}
			if tc.notReason != "" && strings.Contains(res.Reason, tc.notReason) {
				t.Errorf("Reason = %q, want no %q", res.Reason, tc.notReason)
			}
			if res.StderrBytes < tc.minStderr || tc.stderrAbove && res.StderrBytes <= lim.Output {
				t.Errorf("StderrBytes = %d, want at least %d (above the %d cap: %v)", res.StderrBytes, tc.minStderr, lim.Output, tc.stderrAbove)
			}
			for _, w := range tc.tail {
				if !bytes.Contains(res.StderrTail, []byte(w)) {
					t.Errorf("StderrTail = %q..., want %q in it", clip(res.StderrTail), w)
				}
			}
			// The head and tail are stderr's ends, whatever the cap.
			head := min(res.StderrBytes, stderrKeep)
			tail := min(res.StderrBytes-head, stderrKeep)
			if int64(len(res.StderrHead)) != head || int64(len(res.StderrTail)) != tail {
				t.Errorf("len(StderrHead), len(StderrTail) = %d, %d; want %d, %d of %d bytes",
					len(res.StderrHead), len(res.StderrTail), head, tail, res.StderrBytes)
			}
			if n := min(len(res.Stderr), len(res.StderrHead)); !bytes.Equal(res.Stderr[:n], res.StderrHead[:n]) {
				t.Errorf("StderrHead is not where Stderr starts")
			}
			if int64(len(res.Stderr)) != min(res.StderrBytes, lim.Output) {
				t.Errorf("len(Stderr) = %d, want the first %d bytes", len(res.Stderr), min(res.StderrBytes, lim.Output))
			}
			if res.Wall >= lim.Wall && !tc.pastWall {
				t.Errorf("Wall = %v: the run went on to the wall limit", res.Wall)
			}
		})
	}
}

func TestMemoryBombs(t *testing.T) {
	for _, name := range []string{"hostile/heapbomb", "hostile/mmapbomb"} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			lim := tight()
			lim.Memory = 64 << 20
			res := run(t, boxSpec(t, name, lim))
			wantVerdict(t, res, VerdictMemoryLimit)
			if res.Signal != "SIGKILL" {
				t.Errorf("Signal = %q, want SIGKILL from the OOM killer", res.Signal)
			}
			// The bomb drove the cgroup to its limit. The kernel may
			// force-charge an allocation that must not fail past it
			// (see Result.PeakMemory): a few pages, never the bomb's
			// next MiB.
			if res.PeakMemory < lim.Memory-4<<20 || res.PeakMemory > lim.Memory+memOvershoot {
				t.Errorf("PeakMemory = %d, want the %d limit, or at most %d over", res.PeakMemory, lim.Memory, memOvershoot)
			}
			if bytes.Contains(res.Stdout, []byte("touched it all")) {
				t.Errorf("the bomb touched 16 GiB under a 64 MiB limit")
			}
		})
	}
}

// memOvershoot bounds how far the kernel's forced charges may take a
// cgroup past its memory limit in these tests: 64 pages, the memory
// controller's charge batch.
var memOvershoot = int64(64 * os.Getpagesize())

func TestFillTmpfs(t *testing.T) {
	res := run(t, boxSpec(t, "hostile/tmpfsfill", tight()))
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	wantLines(t, got, map[string]string{"fill": "ENOSPC", "root": "EROFS", "box": "EROFS", "dev": "EROFS"})
	if n, _ := strconv.ParseInt(firstOf(got["filled"]), 10, 64); n > tight().Tmpfs || n < tight().Tmpfs/2 {
		t.Errorf("filled %d bytes, want about Tmpfs = %d", n, tight().Tmpfs)
	}
}

// A tmpfs larger than the memory limit: its pages are the box's memory.
func TestFillTmpfsBeyondMemory(t *testing.T) {
	lim := tight()
	lim.Memory, lim.Tmpfs = 48<<20, 1<<30
	res := run(t, boxSpec(t, "hostile/tmpfsfill", lim))
	wantVerdict(t, res, VerdictMemoryLimit)
}

func TestHugeFiles(t *testing.T) {
	res := run(t, boxSpec(t, "hostile/hugefile", tight()))
	wantVerdict(t, res, VerdictOK)
	wantLines(t, lines(res.Stdout), map[string]string{
		"write": "EFBIG", "written": strconv.FormatInt(tight().FileSize, 10), "sparse": "EFBIG", "truncate": "EFBIG",
	})
}

func TestOutputFlood(t *testing.T) {
	for _, fd := range []string{"1", "2"} {
		t.Run("fd"+fd, func(t *testing.T) {
			res := run(t, boxSpec(t, "hostile/flood", tight(), fd))
			wantVerdict(t, res, VerdictOutputLimit)
			out := res.Stdout
			if fd == "2" {
				out = res.Stderr
			}
			if int64(len(out)) != tight().Output {
				t.Errorf("kept %d bytes, want the %d cap", len(out), tight().Output)
			}
			if res.OutputBytes <= tight().Output {
				t.Errorf("OutputBytes = %d, want more than the cap", res.OutputBytes)
			}
			if res.Wall >= tight().Wall {
				t.Errorf("Wall = %v: the flood ran into the wall limit", res.Wall)
			}
		})
	}
}

func TestCPUSpin(t *testing.T) {
	lim := tight()
	lim.CPU, lim.Wall = time.Second, 10*time.Second
	res := run(t, boxSpec(t, "hostile/cpuspin", lim))
	wantVerdict(t, res, VerdictTimeLimit)
	if !strings.Contains(res.Reason, "CPU") {
		t.Errorf("Reason = %q, want the CPU limit", res.Reason)
	}
	if res.CPU < lim.CPU || res.Wall >= lim.Wall {
		t.Errorf("CPU = %v, Wall = %v: want CPU above %v, before the wall limit", res.CPU, res.Wall, lim.CPU)
	}
}

func TestSleepForever(t *testing.T) {
	lim := tight()
	lim.Wall = time.Second
	res := run(t, boxSpec(t, "hostile/sleeper", lim))
	wantVerdict(t, res, VerdictTimeLimit)
	if res.Wall < lim.Wall || res.Wall > lim.Wall+2*time.Second {
		t.Errorf("Wall = %v, want just above %v", res.Wall, lim.Wall)
	}
}

func TestSignalsIgnored(t *testing.T) {
	lim := tight()
	lim.Wall = time.Second
	res := run(t, boxSpec(t, "hostile/sigignore", lim))
	wantVerdict(t, res, VerdictTimeLimit)
	if res.Wall > lim.Wall+2*time.Second {
		t.Errorf("Wall = %v: ignoring signals delayed the kill", res.Wall)
	}
}

func TestKillEverything(t *testing.T) {
	res := run(t, boxSpec(t, "hostile/killall", tight(), strconv.Itoa(os.Getpid())))
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	wantLines(t, got, map[string]string{
		"fork":              "ok",
		"ppid":              "0", // PID 1 of its namespace: its parent is out of sight
		"kill server":       "ESRCH",
		"kill server group": "ESRCH",
		"kill -1":           "ok", // kills the child, nothing outside
		"child":             "<nil> signaled=true killed",
		"kill 1":            "ok", // itself: init ignores SIGKILL from inside
		"survived":          "yes",
	})
}

func TestDaemonDies(t *testing.T) {
	out := boxWritableDir(t)
	spec := boxSpec(t, "hostile/daemon", tight(), "/out")
	spec.Binds = append(spec.Binds, Bind{Host: out, Inside: "/out", Writable: true})
	res := run(t, spec)
	wantVerdict(t, res, VerdictOK)
	count := func() int {
		ents, _ := os.ReadDir(out)
		return len(ents)
	}
	n := count()
	if n < 4 {
		t.Fatalf("the daemon wrote %d heartbeats, want it to have run", n)
	}
	time.Sleep(200 * time.Millisecond)
	if m := count(); m != n {
		t.Errorf("heartbeats went on after the run: %d, then %d", n, m)
	}
}

func TestReadHost(t *testing.T) {
	secret := "db-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("ASYNCLAB_TEST_SECRET", secret)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	db := filepath.Join(dir, "grades.db")
	// World-readable on purpose: only the box's mount namespace keeps it
	// out of reach.
	if err := os.WriteFile(db, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "submissions", "alice")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "handler.go"), []byte(secret), 0o644)
	before, _ := os.Stat(db)

	res := run(t, boxSpec(t, "hostile/readhost", tight(), db, other, strconv.Itoa(os.Getpid())))
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	wantLines(t, got, map[string]string{
		"db": "ENOENT", "db via proc root": "ENOENT", "db via proc 1 root": "ENOENT",
		"other submission": "ENOENT", "server environ": "ENOENT", "server cmdline": "ENOENT",
		"etc shadow": "ENOENT", "etc passwd": "ENOENT", "escape dotdot": "ENOENT",
		"sysrq": "ENOENT", "kcore": "ENOENT", "sys": "ENOENT",
		"own environ": "PATH=/box GOMAXPROCS=2 ",
		"uring db":    "ENOENT", "uring shadow": "ENOENT", "uring other": "ENOENT",
	})
	if bytes.Contains(res.Stdout, []byte(secret)) || bytes.Contains(res.Stderr, []byte(secret)) {
		t.Errorf("the box read the secret")
	}
	visible := got["visible"]
	want := []string{"/", "/box", "/box/prog", "/dev", "/dev/fd", "/dev/null", "/dev/stderr", "/dev/stdin",
		"/dev/stdout", "/dev/urandom", "/dev/zero", "/tmp"}
	if !slices.Equal(visible, want) {
		t.Errorf("the box sees %q, want only %q", visible, want)
	}
	after, _ := os.Stat(db)
	if b, _ := os.ReadFile(db); string(b) != secret || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the database changed")
	}
}

func TestNetworkEgress(t *testing.T) {
	// A listener on every host address: nothing the box does may reach it.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	targets := []string{
		fmt.Sprintf("hostlo=127.0.0.1:%d", port),
		"far=10.255.255.1:80",
	}
	if ip := hostIPv4(); ip != "" {
		targets = append(targets, fmt.Sprintf("hostip=%s:%d", ip, port))
	}
	res := run(t, boxSpec(t, "hostile/egress", tight(), targets...))
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	want := map[string]string{
		"tcp hostlo": "ECONNREFUSED", "tcp hostlo fast": "ok", "uring hostlo": "ECONNREFUSED", "uring hostlo fast": "ok",
		"tcp far": "ENETUNREACH", "tcp far fast": "ok", "uring far": "ENETUNREACH", "uring far fast": "ok",
		"udp 8.8.8.8":         "ENETUNREACH",
		"uring socket packet": "EPERM", "uring socket raw inet": "EPERM",
	}
	if len(targets) == 3 {
		want["tcp hostip"], want["uring hostip"] = "ENETUNREACH", "ENETUNREACH"
	}
	wantLines(t, got, want)
	// Logged, not asserted: io_uring SOCKET is not a system call, so
	// seccomp's family filter does not apply to it (see vsockCheck).
	t.Logf("io_uring SOCKET: netlink %q, vsock %q", got["uring socket netlink"], got["uring socket vsock"])
	select {
	case c := <-accepted:
		t.Errorf("the host listener accepted a connection from %v", c.RemoteAddr())
	default:
	}
}

// hostIPv4 returns a non-loopback IPv4 address of the host, or "".
func hostIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

func TestEscalation(t *testing.T) {
	res := run(t, boxSpec(t, "hostile/escalate", tight()))
	wantVerdict(t, res, VerdictOK)
	want := map[string]string{
		"fork": "ok",
		// Not on the seccomp filter's allow list: ENOSYS, as if the kernel
		// had no such call.
		"mount": "ENOSYS", "umount2": "ENOSYS", "pivot_root": "ENOSYS", "chroot": "ENOSYS", "open_tree": "ENOSYS",
		"fsopen": "ENOSYS", "unshare user": "ENOSYS", "unshare net": "ENOSYS", "unshare mount": "ENOSYS",
		"clone3": "ENOSYS", "setns": "ENOSYS", "ptrace attach": "ENOSYS",
		"ptrace traceme": "ENOSYS", "process_vm_readv": "ENOSYS", "bpf": "ENOSYS", "perf_event_open": "ENOSYS",
		"userfaultfd": "ENOSYS", "keyctl": "ENOSYS", "add_key": "ENOSYS", "init_module": "ENOSYS",
		"finit_module": "ENOSYS", "kexec_load": "ENOSYS", "reboot": "ENOSYS", "personality": "ENOSYS",
		"clock_settime": "ENOSYS", "sethostname": "ENOSYS", "setuid": "ENOSYS", "capset": "ENOSYS",
		"nice": "ENOSYS",
		// Allowed calls with arguments the filter refuses: EPERM.
		"clone newuser": "EPERM", "socket packet": "EPERM", "socket netlink": "EPERM", "socket vsock": "EPERM",
		"socket bluetooth": "EPERM", "socketpair netlink": "EPERM",
		// Allowed: what the lab needs.
		"socket inet": "ok", "socket inet6": "ok", "socket unix": "ok", "io_uring_setup": "ok",
		// Allowed by the filter, refused because the box holds no capability.
		"raise nofile": "EPERM", "securebits": "EPERM", "oom_score_adj": "EACCES",
		// Refused by Landlock (no MAKE_CHAR), before the capability check.
		"mknod": "EACCES",
	}
	wantLines(t, lines(res.Stdout), want)
}

// inotify instances of a box count against the limit of its user
// namespace's creator, root, host-wide: the box gets none, and while it
// runs, the server can still take one.
func TestInotifyDenied(t *testing.T) {
	const addr = "127.0.0.1:7001" // in the box's own network namespace
	spec := boxSpec(t, "hostile/inotify", tight(), addr)
	spec.Peers = func(ctx context.Context, ns *NetNS) error {
		ln, err := ns.Listen("tcp", addr)
		if err != nil {
			return err
		}
		ns.Ready()
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		// The server's own instance, taken while the box holds what it
		// could get.
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
		if err == nil {
			unix.Close(fd)
		}
		_, err = fmt.Fprintf(c, "%s\n", errnoName(err))
		return err
	}
	res := run(t, spec)
	wantVerdict(t, res, VerdictOK)
	if res.PeerErr != nil {
		t.Errorf("PeerErr = %v", res.PeerErr)
	}
	want := map[string]string{"inotify_init1": "ENOSYS", "instances": "0", "fanotify_init": "ENOSYS", "host": "ok"}
	if runtime.GOARCH == "amd64" {
		want["inotify_init"] = "ENOSYS"
	}
	wantLines(t, lines(res.Stdout), want)
}

// errnoName names err's errno as the test programs' report package does:
// "ok", "EPERM" and so on.
func errnoName(err error) string {
	var e syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &e) && unix.ErrnoName(e) != "":
		return unix.ErrnoName(e)
	}
	return "err: " + err.Error()
}

func TestForeignSyscallABI(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the i386 system call gate exists on amd64 only")
	}
	// Outside any box first: a kernel built or booted without IA32
	// emulation, or a hypervisor that does not pass the gate on (seen on
	// a PVM guest), faults at int 0x80 whatever the filter says.
	out, err := exec.Command(program(t, "hostile/int80")).CombinedOutput()
	gate := err == nil
	if !gate && !strings.Contains(string(out), "SIGSEGV") {
		t.Fatalf("int80 outside the box: %v\n%s", err, out)
	}
	res := run(t, boxSpec(t, "hostile/int80", tight()))
	if strings.Contains(string(res.Stdout), "getpid via int 0x80 =") {
		t.Fatalf("the i386 call returned in the box: %q", res.Stdout)
	}
	if !gate {
		// The call cannot reach the filter: all a box can be held to is
		// that it never returns.
		t.Logf("this kernel has no working i386 system call gate (int 0x80 faults outside the box too: %v); the box's run ended %s", err, res.Verdict)
		return
	}
	wantVerdict(t, res, VerdictKilled)
	if res.Signal != "SIGSYS" {
		t.Errorf("Signal = %q, want SIGSYS from the seccomp filter", res.Signal)
	}
}

func TestPlantedFiles(t *testing.T) {
	out := boxWritableDir(t)
	os.WriteFile(filepath.Join(out, "result.txt"), []byte("placeholder"), 0o644)
	spec := boxSpec(t, "hostile/plant", tight(), "/out")
	spec.Binds = append(spec.Binds, Bind{Host: out, Inside: "/out", Writable: true})
	res := run(t, spec)
	wantVerdict(t, res, VerdictOK)
	wantLines(t, lines(res.Stdout), map[string]string{
		"ok": "ok", "symlink": "ok", "fifo": "ok", "big": "ok", "hardlink": "ok", "dirlink": "ok",
		"nested": "ok", "device": "EACCES", // Landlock: no MAKE_CHAR
	})
	if target, _ := os.Readlink(filepath.Join(out, "result.txt")); target != "/etc/shadow" {
		t.Fatalf("result.txt links to %q, want the trap in place", target)
	}
	const max = 64 << 10
	if b, err := ReadFile(out, "ok.txt", max); err != nil || string(b) != "fine\n" {
		t.Errorf("ReadFile(ok.txt) = %q, %v; want the file", b, err)
	}
	for _, tc := range []struct {
		name string
		want error // nil: any error
	}{
		{"result.txt", syscall.ELOOP},
		{"fifo.txt", ErrNotRegular},
		{"big.txt", nil},
		{"hard.txt", ErrNotRegular},
		{"etc/passwd", syscall.ELOOP},
		{"sub/result.txt", syscall.ELOOP},
		{"../" + filepath.Base(out) + "/ok.txt", syscall.EXDEV},
		{"/etc/passwd", syscall.EXDEV},
		{"dev.txt", syscall.ENOENT},
	} {
		done := make(chan struct{})
		var b []byte
		var err error
		go func() {
			b, err = ReadFile(out, tc.name, max)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("ReadFile(%s) hangs", tc.name)
		}
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("ReadFile(%s) = %q, %v; want error %v", tc.name, clip(b), err, tc.want)
		}
	}
}

func TestHostileTrace(t *testing.T) {
	// A flood is cut at the cap as it is read: Spec.Trace gets exactly the
	// first Limits.Trace bytes, the run is stopped, and the sandbox counts
	// what came past the cap.
	t.Run("flood", func(t *testing.T) {
		spec := boxSpec(t, "hostile/trace", tight(), "flood")
		var got bytes.Buffer
		spec.Trace = &got
		res := run(t, spec)
		wantVerdict(t, res, VerdictOutputLimit)
		if int64(got.Len()) != tight().Trace {
			t.Fatalf("Spec.Trace got %d bytes, want the %d cap", got.Len(), tight().Trace)
		}
		if !res.TraceCut || res.TraceBytes <= tight().Trace {
			t.Errorf("TraceCut, TraceBytes = %v, %d; want true, more than %d", res.TraceCut, res.TraceBytes, tight().Trace)
		}
		for i, c := range got.Bytes() {
			if c != byte((i%(64<<10))*7) {
				t.Fatalf("Trace[%d] = %#x, want the raw bytes written", i, c)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		spec := boxSpec(t, "hostile/trace", tight(), "garbage")
		var got bytes.Buffer
		spec.Trace = &got
		res := run(t, spec)
		wantVerdict(t, res, VerdictOK)
		want := make([]byte, 4096)
		for i := range want {
			want[i] = byte(i*131 + i/256)
		}
		if !bytes.Equal(got.Bytes(), want) || res.TraceBytes != 4096 || res.TraceCut {
			t.Errorf("Trace = %d bytes (TraceBytes %d, cut %v), want the 4096 raw bytes written", got.Len(), res.TraceBytes, res.TraceCut)
		}
	})
	// Spec.Trace is live: the program sleeps after writing, so only a
	// writer that sees bytes while it runs can end the run before its wall
	// limit.
	t.Run("live", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		spec := boxSpec(t, "hostile/trace", tight(), "hold")
		spec.Trace = writerFunc(func(b []byte) (int, error) {
			if bytes.Contains(b, []byte("hello")) {
				cancel()
			}
			return len(b), nil
		})
		before := snapshot(t)
		res, err := Run(ctx, spec)
		before.verify(t)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %+v, %v; want the writer to cancel it while the program ran", res, err)
		}
	})
	// A trace the server cannot record is the sandbox's failure, not the
	// program's, and the run ends.
	t.Run("write fails", func(t *testing.T) {
		spec := boxSpec(t, "hostile/trace", tight(), "hold")
		spec.Trace = writerFunc(func(b []byte) (int, error) { return 0, errors.New("disk full") })
		res := run(t, spec)
		wantVerdict(t, res, VerdictInternalError)
	})
	t.Run("closed", func(t *testing.T) {
		res := run(t, boxSpec(t, "hostile/trace", tight(), "closed"))
		wantVerdict(t, res, VerdictOK)
		if res.TraceBytes != 0 {
			t.Errorf("TraceBytes = %d, want none", res.TraceBytes)
		}
	})
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// The server is killed mid-run: the kernel must kill the box (Pdeathsig,
// then the pid namespace), and cleaning stale runs must remove the
// cgroup left behind. The server runs its box in a private parent
// cgroup, so that only this test cleans up after it.
func TestServerKilledMidRun(t *testing.T) {
	// Adopt the orphans, so that this test reaps the dead box itself
	// instead of leaving zombies to the host's init.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	hostRoot, err := host()
	if err != nil {
		t.Fatal(err)
	}
	root := testRoot(t, hostRoot)
	prog := program(t, "hostile/sigignore")
	cmd := execSelf(t, crashServerEnv+"="+prog, crashCgroupEnv+"="+filepath.Base(root.parents()[0]))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	server := cmd.Process.Pid
	ids := BoxIDs() // that server's boxes lease their uids from the same range
	var box []int
	// On every path: the server dies, its box with it (testRoot's cleanup
	// kills what is in the cgroup), and this process reaps what it
	// adopted.
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		removeTestRoot(root)
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range box {
			var ws unix.WaitStatus
			for {
				got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
				if err != nil || got == pid || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	// The box: the processes of the box's uid in a run cgroup of that
	// server.
	marker := fmt.Sprintf("/%s/%s%d-", filepath.Base(root.parents()[0]), runPrefix, server)
	deadline := time.Now().Add(20 * time.Second)
	for len(box) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the crashing server's box never started")
		}
		time.Sleep(20 * time.Millisecond)
		box = box[:0]
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			cg, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
			pid, err2 := strconv.Atoi(e.Name())
			if err == nil && err2 == nil && strings.Contains(string(cg), marker) && ids.Contains(procUID(pid)) {
				box = append(box, pid)
			}
		}
	}
	t.Logf("box processes %v of server %d; killing the server", box, server)
	cmd.Process.Kill()
	cmd.Wait()
	killed := time.Now()
	// The box's PID 1 is now this process's child: it must die of
	// SIGKILL, and the rest of the box with it.
	for _, pid := range box {
		var ws unix.WaitStatus
		for {
			got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			if err != nil || got == pid {
				break // reaped now, or not our child: the box's PID 1 reaped it
			}
			if time.Now().After(deadline) {
				t.Fatalf("box process %d outlived its server", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
		for {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("box process %d outlived its server", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("box gone %v after the server", time.Since(killed).Round(time.Millisecond))
	n, err := root.cleanStale()
	if err != nil {
		t.Fatalf("cleanStale() error: %v", err)
	}
	if n < 1 {
		t.Errorf("cleanStale() = %d, want the dead server's run removed", n)
	}
	for _, p := range root.parents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), fmt.Sprintf("%s%d-", runPrefix, server)) {
				t.Errorf("cgroup %s/%s survived cleanStale", p, e.Name())
			}
		}
	}
	if strays := settledStrays(); len(strays) > 0 {
		t.Errorf("processes left behind: %v", strays)
	}
}

// crashServerEnv makes the test binary a server that runs the program it
// names in a box until it is killed; crashCgroupEnv names the parent
// cgroup, below the host's, that it runs the box in.
const (
	crashServerEnv = "ASYNCLAB_SANDBOX_TEST_CRASH_SERVER"
	crashCgroupEnv = "ASYNCLAB_SANDBOX_TEST_CRASH_CGROUP"
)

func crashServerMain() {
	spec := Spec{
		Path:   "/box/prog",
		Binds:  []Bind{{Host: os.Getenv(crashServerEnv), Inside: "/box/prog"}},
		Limits: Limits{Wall: time.Minute, Memory: 64 << 20, Pids: 16},
	}
	root, err := host()
	if err == nil {
		root, err = subRoot(root, os.Getenv(crashCgroupEnv))
	}
	if err == nil {
		_, err = runIn(context.Background(), spec, root)
	}
	fmt.Fprintln(os.Stderr, "crash server: Run returned:", err)
	os.Exit(1)
}

// execSelf returns a command that runs this test binary with env added
// and no test selected.
func execSelf(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
