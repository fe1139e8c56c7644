package sandbox

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// The filter's jumps must land inside the program, and it must fit.
func TestFilterShape(t *testing.T) {
	p := filter()
	if len(p) == 0 || len(p) > 4096 {
		t.Fatalf("len(filter()) = %d", len(p))
	}
	for i, ins := range p {
		if ins.Code&0x07 == unix.BPF_JMP && (i+1+int(ins.Jt) >= len(p) || i+1+int(ins.Jf) >= len(p)) {
			t.Errorf("instruction %d jumps out of the program: %+v", i, ins)
		}
	}
	if last := p[len(p)-1]; last.Code != ret || last.K != retAllow {
		t.Errorf("the filter ends with %+v, want RET ALLOW", last)
	}
}

// startIn starts a host process (the sleeper) in cgroup c.
func startIn(t *testing.T, c *cgroup) *exec.Cmd {
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
	if err := c.enter(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// A run cgroup whose server is gone, with a process still in it, is
// killed and removed; a live server's run is left alone.
func testCleanStale(t *testing.T, root *cgroupRoot) {
	dead := procID{pid: os.Getpid(), start: math.MaxUint64}
	stale, err := root.create(runName(dead, 1), tight())
	if err != nil {
		t.Fatal(err)
	}
	live, err := root.create(runName(self, runSeq.Add(1)), tight())
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	cmd := startIn(t, stale)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	if _, err := root.cleanStale(); err != nil {
		t.Fatalf("cleanStale() error: %v", err)
	}
	select {
	case err := <-exited:
		if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("the stale run's process ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
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
	t.Run("cpu", func(t *testing.T) {
		res := runV2(t, boxSpec(t, "control/light", tight()))
		wantVerdict(t, res, VerdictOK)
		if res.CPU <= 0 {
			t.Errorf("CPU = %v, want cpu.stat's usage", res.CPU)
		}
	})
}
