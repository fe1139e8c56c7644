package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestParseMountinfo(t *testing.T) {
	in := `25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:11 - cgroup cgroup rw,cpu,cpuacct
37 25 0:32 / /sys/fs/cgroup/my\040memory rw shared:12 - cgroup cgroup rw,memory
`
	got := parseMountinfo([]byte(in))
	want := []mount{
		{point: "/sys/fs/cgroup/unified", fstype: "cgroup2", super: []string{"rw", "nsdelegate"}},
		{point: "/sys/fs/cgroup/cpu,cpuacct", fstype: "cgroup", super: []string{"rw", "cpu", "cpuacct"}},
		{point: "/sys/fs/cgroup/my memory", fstype: "cgroup", super: []string{"rw", "memory"}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(mount{})); diff != "" {
		t.Errorf("parseMountinfo() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseProcCgroup(t *testing.T) {
	got := parseProcCgroup([]byte("9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/c\n0::/user.slice/x.service\n"))
	want := map[string]string{"name=systemd": "/", "memory": "/a/b", "cpu": "/c", "cpuacct": "/c", "0": "/user.slice/x.service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseProcCgroup() mismatch (-want +got):\n%s", diff)
	}
}

func TestRunName(t *testing.T) {
	id := procID{pid: 1234, start: 987654}
	name := runName(id, 42)
	if got, ok := parseRunName(name); !ok || got != id {
		t.Errorf("parseRunName(%q) = %v, %v; want %v", name, got, ok, id)
	}
	for _, bad := range []string{"run-", "run-1-2", "run-a-2-3", "other-1-2-3", "run-1-2-3-4"} {
		if _, ok := parseRunName(bad); ok {
			t.Errorf("parseRunName(%q) ok, want not a run", bad)
		}
	}
	if me, ok := procIDOf(os.Getpid()); !ok || !me.alive() {
		t.Errorf("this process is not alive by its procID %v (found %v)", me, ok)
	}
	if (procID{pid: 1, start: math.MaxUint64}).alive() {
		t.Errorf("a procID with a wrong start time is alive")
	}
}

// startIn starts a host process (the sleeper) in cgroup c and returns
// it with the result of its Wait. Whatever becomes of the test, the
// process is killed and reaped when it ends.
func startIn(t *testing.T, c *cgroup) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(program(t, "hostile/sleeper"))
	if c.root.v2 {
		fd, err := c.openFD()
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(waited)
		exited <- err
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	if err := c.enter(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return cmd, exited
}

// testRootPrefix starts the name of a test's private parent cgroup; it
// goes on with the test process's pid, start time and a sequence number.
const testRootPrefix = "test-"

var testRootSeq atomic.Uint64

// testRoot returns a parent cgroup of this test's own below r, for tests
// that plant or leave behind a dead server's runs. Every lab process on
// the host (a server, the grading tests) cleans the stale runs it finds
// directly under r when it starts: in a private root, they can neither
// remove what the test planted under its feet nor clean up for the test
// what it must clean itself. When the test ends, every run in the root
// is killed and removed, and the root with them.
func testRoot(t *testing.T, r *cgroupRoot) *cgroupRoot {
	t.Helper()
	sweepTestRoots(t, r)
	me, ok := procIDOf(os.Getpid())
	if !ok {
		t.Fatal("cannot read /proc/self/stat")
	}
	sub, err := subRoot(r, fmt.Sprintf("%s%d-%d-%d", testRootPrefix, me.pid, me.start, testRootSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTestRoot(sub); err != nil {
			t.Errorf("remove the test's cgroups: %v", err)
		}
	})
	return sub
}

// subRoot makes (or opens) the parent cgroup name below r, with r's
// controllers enabled for its children.
func subRoot(r *cgroupRoot, name string) (*cgroupRoot, error) {
	if r.v2 {
		sub := &cgroupRoot{v2: true, dir: filepath.Join(r.dir, name), ctrls: maps.Clone(r.ctrls)}
		if err := os.Mkdir(sub.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		var enable []string
		for _, c := range v2Controllers {
			if r.ctrls[c] {
				enable = append(enable, "+"+c)
			}
		}
		if len(enable) > 0 {
			if err := writeFile(filepath.Join(sub.dir, "cgroup.subtree_control"), strings.Join(enable, " ")); err != nil {
				return nil, fmt.Errorf("enable controllers in %s: %w", sub.dir, err)
			}
		}
		return sub, nil
	}
	sub := &cgroupRoot{v1: map[string]string{}}
	for ctrl, p := range r.v1 {
		sub.v1[ctrl] = filepath.Join(p, name)
	}
	for _, d := range sub.v1dirs() {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return sub, nil
}

// removeTestRoot kills and removes every run in r, whoever owns it, then
// r itself.
func removeTestRoot(r *cgroupRoot) error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range r.parents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if _, ok := parseRunName(e.Name()); ok && e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				errs = append(errs, r.run(e.Name()).remove())
			}
		}
	}
	for _, p := range r.parents() {
		errs = append(errs, rmdirRetry(p))
	}
	return errors.Join(errs...)
}

// sweepTestRoots removes the private roots of test processes that were
// killed before their cleanup ran.
func sweepTestRoots(t *testing.T, r *cgroupRoot) {
	seen := map[string]bool{}
	for _, p := range r.parents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), testRootPrefix)
			// A test root is named like a run, with another prefix.
			owner, ok2 := parseRunName(runPrefix + rest)
			if !ok || !ok2 || !e.IsDir() || seen[e.Name()] || owner.alive() {
				continue
			}
			seen[e.Name()] = true
			sub, err := subRoot(r, e.Name())
			if err == nil {
				err = removeTestRoot(sub)
			}
			if err != nil {
				t.Logf("remove a dead test's cgroups %s: %v", e.Name(), err)
			}
		}
	}
}

// A run cgroup whose server is gone, with a process still in it, is
// killed and removed; a live server's run is left alone.
func testCleanStale(t *testing.T, host *cgroupRoot) {
	root := testRoot(t, host)
	dead := procID{pid: os.Getpid(), start: math.MaxUint64}
	stale, err := root.create(runName(dead, 1), tight())
	if err != nil {
		t.Fatal(err)
	}
	live, err := root.create(runName(self, runSeq.Add(1)), tight())
	if err != nil {
		t.Fatal(err)
	}
	cmd, exited := startIn(t, stale)

	if n, err := root.cleanStale(); err != nil || n != 1 {
		t.Fatalf("cleanStale() = %d, %v; want 1 stale run removed", n, err)
	}
	select {
	case err := <-exited:
		if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("the stale run's process ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stale run's process survived")
	}
	for _, d := range stale.dirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("stale cgroup %s still exists", d)
		}
	}
	for _, d := range live.dirs() {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live cgroup %s was removed: %v", d, err)
		}
	}
}

func TestCleanStale(t *testing.T) {
	root, err := host()
	if err != nil {
		t.Fatal(err)
	}
	testCleanStale(t, root)
}

// v2Root returns a cgroup v2 root for the mechanics test: the production
// one when this host has v2 controllers, else the controller-less v2
// hierarchy (where cgroup.kill, CLONE_INTO_CGROUP and cpu.stat work, but
// nothing is limited).
func v2Root(t *testing.T) *cgroupRoot {
	if r, err := host(); err == nil && r.v2 {
		return r
	}
	ms, err := readMounts()
	if err != nil {
		t.Fatal(err)
	}
	own, _ := ownCgroups()
	for _, m := range ms {
		if m.fstype == "cgroup2" {
			r, err := setupV2(filepath.Join(m.point, own["0"]), nil)
			if err != nil {
				t.Skipf("cgroup v2 at %s is not writable: %v", m.point, err)
			}
			return r
		}
	}
	t.Skip("no cgroup v2 hierarchy mounted")
	return nil
}

// The v2 code path on whatever v2 this host has. Only harmless programs
// run here: a controller-less v2 root limits nothing.
func TestCgroupV2Mechanics(t *testing.T) {
	root := v2Root(t)
	t.Logf("using %v", root)
	t.Run("stale", func(t *testing.T) { testCleanStale(t, root) })
	runV2 := func(t *testing.T, spec Spec) *Result {
		before := snapshot(t)
		res, err := runIn(context.Background(), spec, root)
		if err != nil {
			t.Fatal(err)
		}
		before.verify(t)
		ents, _ := os.ReadDir(root.dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), fmt.Sprintf("%s%d-%d-", runPrefix, self.pid, self.start)) {
				t.Errorf("cgroup %s left behind", e.Name())
			}
		}
		return res
	}
	t.Run("sleeper", func(t *testing.T) {
		lim := tight()
		lim.Wall = 500 * time.Millisecond
		res := runV2(t, boxSpec(t, "hostile/sigignore", lim))
		wantVerdict(t, res, VerdictTimeLimit)
	})
	t.Run("daemon", func(t *testing.T) {
		out := boxWritableDir(t)
		spec := boxSpec(t, "hostile/daemon", tight(), "/out")
		spec.Binds = append(spec.Binds, Bind{Host: out, Inside: "/out", Writable: true})
		wantVerdict(t, runV2(t, spec), VerdictOK)
	})
	// Born in its cgroup (CLONE_INTO_CGROUP), the box's cgroup namespace
	// is rooted there.
	t.Run("facts", func(t *testing.T) {
		spec, dir := factsSpec(t)
		wantNoHostFacts(t, runV2(t, spec), dir)
	})
	t.Run("cpu", func(t *testing.T) {
		res := runV2(t, boxSpec(t, "control/light", tight()))
		wantVerdict(t, res, VerdictOK)
		if res.CPU <= 0 {
			t.Errorf("CPU = %v, want cpu.stat's usage", res.CPU)
		}
	})
}
