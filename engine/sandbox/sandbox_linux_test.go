package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// binDir holds the test programs, built once per test binary. The box
// must be able to read them: 0755.
var binDir string

// sentinel is a host file no run may touch.
var (
	sentinel     string
	sentinelData = "untouched"
)

// serverNetNS is the test process's own network namespace.
var serverNetNS string

func TestMain(m *testing.M) {
	if IsInit() {
		InitMain()
	}
	if os.Getenv(crashServerEnv) != "" {
		crashServerMain()
	}
	if os.Getenv(leaseHolderEnv) != "" {
		leaseHolderMain()
	}
	// The server's network namespace, read before any peer runs: a peer's
	// locked thread may be the main thread, and /proc/self names the main
	// thread, so reading it later can show a box's namespace.
	serverNetNS, _ = os.Readlink("/proc/thread-self/ns/net")
	d, err := os.MkdirTemp("", "sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(d, 0o755)
	binDir = d
	// World-writable on purpose: only the box's mount namespace keeps it
	// out of reach. Every run checks it afterwards.
	sentinel = filepath.Join(d, "sentinel")
	if err := os.WriteFile(sentinel, []byte(sentinelData), 0o666); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(sentinel, 0o666) // past the umask
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

type build struct {
	once sync.Once
	path string
	err  error
}

var builds sync.Map // name → *build

// program builds testdata/<name> (such as "hostile/forkbomb") statically
// and returns its host path; each program is built once per test binary.
func program(t testing.TB, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, new(build))
	b := v.(*build)
	b.once.Do(func() {
		out := filepath.Join(binDir, strings.ReplaceAll(name, "/", "-"))
		cmd := exec.Command("go", "build", "-o", out, "./testdata/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", name, err, msg)
			return
		}
		b.path = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// tight are limits small enough that a bomb cannot hurt a shared machine.
func tight() Limits {
	return Limits{
		Wall:     3 * time.Second,
		CPU:      3 * time.Second,
		Memory:   96 << 20,
		Pids:     32,
		Output:   64 << 10,
		FileSize: 1 << 20,
		Tmpfs:    8 << 20,
		Trace:    64 << 10,
	}
}

// boxSpec runs the program name as /box/prog with args.
func boxSpec(t testing.TB, name string, lim Limits, args ...string) Spec {
	return Spec{
		Path:   "/box/prog",
		Args:   append([]string{"prog"}, args...),
		Env:    []string{"PATH=/box", "GOMAXPROCS=2"},
		Binds:  []Bind{{Host: program(t, name), Inside: "/box/prog"}},
		Limits: lim,
	}
}

// run runs spec and checks that the host is as it was: no process of the
// box left, no cgroup left, no mount changed.
func run(t *testing.T, spec Spec) *Result {
	t.Helper()
	before := snapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, spec)
	if err != nil {
		t.Fatalf("Run(%s) error: %v", spec.Args, err)
	}
	before.verify(t)
	t.Logf("Run(%s) = %s %q exit=%d signal=%s cpu=%v wall=%v peak=%d MiB out=%d landlock=%d\nstdout:\n%s\nstderr:\n%s",
		spec.Args, res.Verdict, res.Reason, res.ExitCode, res.Signal, res.CPU, res.Wall, res.PeakMemory>>20,
		res.OutputBytes, res.Landlock, clip(res.Stdout), clip(res.Stderr))
	return res
}

func clip(b []byte) []byte {
	if len(b) > 4096 {
		return append(b[:4096:4096], "..."...)
	}
	return b
}

// wantVerdict fails the test unless res has verdict v.
func wantVerdict(t *testing.T, res *Result, v Verdict) {
	t.Helper()
	if res.Verdict != v {
		t.Errorf("Verdict = %s (%q, exit %d, signal %q), want %s", res.Verdict, res.Reason, res.ExitCode, res.Signal, v)
	}
	if strings.Contains(res.Reason, binDir) || strings.Contains(res.Reason, os.TempDir()+"/") {
		t.Errorf("Reason = %q, names a host path", res.Reason)
	}
}

// lines parses "name<TAB>result" lines from the report package.
func lines(b []byte) map[string][]string {
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// wantLines checks each name's result.
func wantLines(t *testing.T, got map[string][]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g := got[k]
		if len(g) != 1 || g[0] != w {
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
}

// hostState is what a run must leave as it found it.
type hostState struct {
	mounts   []string
	sentinel os.FileInfo
}

func snapshot(t *testing.T) *hostState {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(sentinel)
	if err != nil {
		t.Fatal(err)
	}
	return &hostState{mounts: strings.Split(strings.TrimSpace(string(b)), "\n"), sentinel: st}
}

func (s *hostState) verify(t *testing.T) {
	t.Helper()
	after := snapshot(t)
	if !slices.Equal(s.mounts, after.mounts) {
		t.Errorf("host mounts changed:\nbefore %q\nafter  %q", s.mounts, after.mounts)
	}
	if strays := settledStrays(); len(strays) > 0 {
		t.Errorf("processes left behind: %v", strays)
	}
	if left := leftoverCgroups(t); len(left) > 0 {
		t.Errorf("cgroups left behind: %v", left)
	}
	idsMu.Lock()
	p := pool
	idsMu.Unlock()
	if p != nil {
		if n := p.held.Load(); n != 0 {
			t.Errorf("%d box uids still leased", n)
		}
	}
	b, _ := os.ReadFile(sentinel)
	if string(b) != sentinelData || !after.sentinel.ModTime().Equal(s.sentinel.ModTime()) {
		t.Errorf("the host's sentinel file changed: %q", b)
	}
}

// settledStrays is strayProcesses once the processes that are only on
// their way out have gone: a box's process exiting as the check reads
// /proc is not a leak, and one left behind for real is still there after
// a few seconds.
func settledStrays() []string {
	strays := strayProcesses()
	for deadline := time.Now().Add(3 * time.Second); len(strays) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		strays = strayProcesses()
	}
	return strays
}

// strayProcesses lists the processes that descend from this test, run as
// the box's user or sit in one of this process's run cgroups.
func strayProcesses() []string {
	me := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	zombie := map[int]bool{}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == me {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 2 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		if f[0] == "Z" {
			zombie[pid] = true
		}
		pids = append(pids, pid)
	}
	ids := BoxIDs()
	marker := fmt.Sprintf("/%s/%s%d-%d-", parentName, runPrefix, self.pid, self.start)
	var strays []string
	for _, pid := range pids {
		why := ""
		for p, n := parent[pid], 0; p > 1 && n < 64; p, n = parent[p], n+1 {
			if p == me {
				why = "descends from the test"
			}
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		// A box of another server (another test binary of this repository
		// running at the same time) runs as a uid of the same range,
		// inside that server's own run cgroup: it is not ours to count.
		othersBox := strings.Contains(string(cg), "/"+parentName+"/"+runPrefix) && !strings.Contains(string(cg), marker)
		// A zombie has left its cgroup already; one that is not ours
		// (ours descend from the test) waits for its parent in another
		// test binary's box, a build's compiler say, to reap it.
		if uid := procUID(pid); ids.Contains(uid) && uid != os.Geteuid() && !othersBox && !zombie[pid] && !leased(ids, uid) {
			why = "runs as a box uid that no one leases"
		}
		if strings.Contains(string(cg), marker) {
			why = "in a run cgroup"
		}
		if why != "" {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			strays = append(strays, fmt.Sprintf("%d %q: %s", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}), why))
		}
	}
	return strays
}

// leased reports whether a server holds the lease of uid: a process that
// runs as uid is then that server's box (another test binary's, or a
// server's, on this host), in the moment before it is moved into its run
// cgroup perhaps. Once its lease is returned, no process of the uid may
// be left.
func leased(ids IDRange, uid int) bool {
	if ids.LockDir == "" {
		return false
	}
	fd, err := unix.Open(filepath.Join(ids.LockDir, strconv.Itoa(uid)), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) != nil
}

// procUID returns the real uid of process pid, or -1.
func procUID(pid int) int {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(st), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			uid, err := strconv.Atoi(f[1])
			if err == nil {
				return uid
			}
		}
	}
	return -1
}

// leftoverCgroups lists this process's run cgroups that still exist.
func leftoverCgroups(t *testing.T) []string {
	cg, err := host()
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%s%d-%d-", runPrefix, self.pid, self.start)
	var left []string
	for _, p := range cg.parents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				left = append(left, filepath.Join(p, e.Name()))
			}
		}
	}
	return left
}

// boxWritableDir returns a host directory the box may write, for a
// writable bind: group-writable by the boxes' group.
func boxWritableDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir() // its parent stays 0700: the box needs no path to it
	if err := os.Chown(d, os.Geteuid(), BoxIDs().GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o770); err != nil {
		t.Fatal(err)
	}
	return d
}

// firstOf returns the first of vs, or "".
func firstOf(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// TestSetupFailureSaysWhy: when box-init fails to set the box up, Run's
// error says what failed and how box-init ended.
func TestSetupFailureSaysWhy(t *testing.T) {
	spec := boxSpec(t, "control/true", tight())
	spec.Dir = "/no/such/dir"
	res, err := Run(context.Background(), spec)
	if err == nil {
		t.Fatalf("Run with a missing working directory = %+v, want an error", res)
	}
	for _, want := range []string{"box setup", "/no/such/dir", "box-init: exit status 127"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
