package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/uring"
)

// Doctor reports what this host offers the sandbox, one [Check] per
// mechanism. It starts a probe box (the same re-exec as [Run], so main
// must call [IsInit] first) and runs `go version`; it takes tens of
// milliseconds.
func Doctor() []Check {
	probe := runProbe()
	var cs []Check
	cs = append(cs, probe.nsChecks()...)
	cs = append(cs, cgroupCheck(), probe.check(CheckSeccomp, true,
		"the box's seccomp allow list loads: unshare is not on it (ENOSYS), AF_PACKET sockets are refused (EPERM)",
		"enable CONFIG_SECCOMP_FILTER in the kernel"))
	cs = append(cs, landlockCheck(), ioUringCheck(probe), ioUringSysctlCheck(), goCheck(), swapCheck(), vsockCheck())
	return cs
}

// Ready returns nil when every required check of [Doctor] passes, and
// otherwise an error that names the missing ones (see [Missing]). The
// server refuses to grade then.
func Ready() error { return Missing(Doctor()) }

// probeTreeEnv tells the probe box that fd 3 is a detached bind to attach.
const probeTreeEnv = "LAB_PROBE_TREE"

// probeResult is what the probe box reported, step by step.
type probeResult struct {
	startErr error             // the box could not be created
	steps    map[string]string // step → "" (ok) or the failure
}

func (p *probeResult) check(name string, required bool, detail, fix string) Check {
	c := Check{Name: name, Required: required}
	if p.startErr != nil {
		c.Detail = "the probe box did not start: " + p.startErr.Error()
		c.Fix = fix
		return c
	}
	msg, ok := p.steps[name]
	switch {
	case !ok:
		c.Detail = "the probe box did not get this far"
		c.Fix = fix
	case msg != "":
		c.Detail = msg
		c.Fix = fix
	default:
		c.OK, c.Detail = true, detail
	}
	return c
}

func (p *probeResult) nsChecks() []Check {
	user := Check{Name: CheckUserNS, Required: true}
	switch {
	case p.startErr == nil:
		user.OK = true
		user.Detail = "the box gets its own user, mount, pid, network, IPC, UTS, cgroup and time namespaces, and a host uid of its own"
	default:
		user.Detail = "cannot create the box's namespaces: " + p.startErr.Error()
		user.Fix = userNSFix()
	}
	return []Check{
		user,
		p.check(CheckMountNS, true, "tmpfs root, detached binds, overlays, /proc of the box's pid namespace, pivot_root",
			"run on a host (not in a container with a masked /proc) whose kernel has the new mount API (5.12+) and overlayfs (CONFIG_OVERLAY_FS)"),
		p.check(CheckPidNS, true, "the program is PID 1 of its own pid namespace: its exit ends every process of the box",
			"enable CONFIG_PID_NS"),
		p.check(CheckNetNS, true, "the box has only a loopback interface",
			"enable CONFIG_NET_NS"),
		p.check(CheckTimeNS, true, "the box's boot clock (uptime) starts at zero",
			"enable CONFIG_TIME_NS (Linux 5.6+)"),
	}
}

// userNSFix explains why user namespaces may be refused.
func userNSFix() string {
	if b, err := os.ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); err == nil && strings.TrimSpace(string(b)) == "1" {
		return "AppArmor restricts user namespaces: give the server an AppArmor profile with `userns,` or run it as root"
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return "sysctl -w user.max_user_namespaces=15000"
	}
	return "enable CONFIG_USER_NS and user namespaces for the server's user"
}

// runProbe starts a box that tries each mechanism and reports.
func runProbe() *probeResult {
	res := &probeResult{steps: map[string]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, err := leaseIDs(ctx)
	if err != nil {
		res.startErr = err
		return res
	}
	// The probe is PID 1 of its pid namespace: once it is reaped, nothing
	// of it is left.
	defer ids.release()
	attr := boxProcAttr(ids.uid, ids.gid, true)
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{probeArg0}
	cmd.Env = []string{}
	cmd.SysProcAttr = attr
	if os.Geteuid() == 0 {
		// A detached clone of /dev/null, as Run makes of every bind.
		if fd, err := unix.OpenTree(unix.AT_FDCWD, "/dev/null", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err == nil {
			f := os.NewFile(uintptr(fd), "tree")
			defer f.Close()
			cmd.ExtraFiles = []*os.File{f}
			cmd.Env = []string{probeTreeEnv + "=1"}
		}
	}
	out, err := cmd.Output()
	if len(out) == 0 && err != nil {
		res.startErr = err
		return res
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, msg, _ := strings.Cut(sc.Text(), "\t")
		res.steps[name] = msg
	}
	return res
}

// probeMain is the probe box's side of [Doctor]: one line per step, the
// step's name, a tab and its failure ("" when it worked).
func probeMain() int {
	report := func(name string, err error) {
		msg := ""
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Printf("%s\t%s\n", name, msg)
	}
	if os.Getpid() != 1 {
		report(CheckPidNS, fmt.Errorf("the box's first process has pid %d, not 1", os.Getpid()))
	} else {
		report(CheckPidNS, nil)
	}
	report(CheckTimeNS, newTimeNS())
	report(CheckMountNS, probeMounts())
	report(CheckNetNS, loopbackUp())
	err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	if err == nil {
		err = loadSeccomp()
	}
	if err == nil {
		if e := unix.Unshare(unix.CLONE_NEWNS); !errors.Is(e, unix.ENOSYS) {
			err = fmt.Errorf("unshare under the filter = %v, want ENOSYS", e)
		}
		if fd, e := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0); !errors.Is(e, unix.EPERM) {
			unix.Close(fd)
			err = fmt.Errorf("socket(AF_PACKET) under the filter = %v, want EPERM", e)
		}
	}
	report(CheckSeccomp, err)
	if st := uring.Check(); !st.Available {
		report(CheckIOUring, errors.New(st.Reason))
	} else {
		report(CheckIOUring, nil)
	}
	return 0
}

// probeMounts builds a small box root the way setupMounts does.
func probeMounts() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root, err := newRootDir()
	if err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	for _, d := range []string{"proc", "dev", "box"} {
		if err := os.Mkdir(root+"/"+d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(root+"/dev/null", nil, 0o644); err != nil {
		return err
	}
	if err := unix.Mount("/dev/null", root+"/dev/null", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /dev/null: %w", err)
	}
	if err := os.WriteFile(root+"/box/null", nil, 0o644); err != nil {
		return err
	}
	// Told, not guessed from fd 3: the Go runtime may hold a file of its
	// own there (the cgroup CPU quota).
	if os.Getenv(probeTreeEnv) == "1" {
		if err := unix.MoveMount(3, "", unix.AT_FDCWD, root+"/box/null", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach a detached bind: %w", os.NewSyscallError("move_mount", err))
		}
	}
	// A read-only directory bind is shown through an overlay.
	for _, d := range []string{"/ov", stageDir + "/0", stageDir + "/empty"} {
		if err := os.MkdirAll(root+d, 0o755); err != nil {
			return err
		}
	}
	if err := neutralBind(boxBind{Host: root + "/box", Dir: true, FD: -1}, root+"/ov", root+stageDir, 0); err != nil {
		return fmt.Errorf("show a bind through an overlay: %w", err)
	}
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return setMountAttr("/", unix.MOUNT_ATTR_RDONLY)
}

func cgroupCheck() Check {
	c := Check{Name: CheckCgroups, Required: true}
	r, err := host()
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "mount cgroup v2 with the memory, pids and cpu controllers delegated to the server (systemd Delegate=yes), or cgroup v1 memory and pids hierarchies writable by it"
		return c
	}
	// Prove the parent is writable with a run cgroup of our own.
	cg, err := r.create(runName(self, runSeq.Add(1)), DefaultLimits())
	if err != nil {
		c.Detail = r.String() + ": " + err.Error()
		c.Fix = "make the asynclab cgroups writable by the server"
		return c
	}
	if err := cg.remove(); err != nil {
		c.Detail = r.String() + ": " + err.Error()
		return c
	}
	c.OK = true
	c.Detail = r.String() + ": per-run memory (no swap), pids and CPU limits, kill of the whole run"
	if !r.v2 {
		if _, ok := r.v1["freezer"]; !ok {
			c.Detail += "; no v1 freezer: the kill loops without freezing"
		}
		if _, ok := r.v1["cpuacct"]; !ok {
			c.Detail += "; no cpuacct: CPU time comes from the exit status only"
		}
	}
	return c
}

func landlockCheck() Check {
	c := Check{Name: CheckLandlock}
	abi := landlockABI()
	if abi == 0 {
		c.Detail = "the kernel has no Landlock: the box relies on its mount namespace alone for files"
		c.Fix = "boot a 5.13+ kernel with CONFIG_SECURITY_LANDLOCK=y and landlock in lsm="
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("ABI %d: files read-only except /tmp and writable binds", abi)
	if abi >= 6 {
		c.Detail += ", signals and abstract sockets scoped to the box"
	}
	return c
}

func ioUringCheck(p *probeResult) Check {
	c := Check{Name: CheckIOUring, Required: true}
	st := uring.Check()
	if !st.Available {
		c.Detail = st.Reason
		c.Fix = "use a 6.1+ kernel with CONFIG_IO_URING=y and kernel.io_uring_disabled=0"
		return c
	}
	in := p.check(CheckIOUring, true, "", "")
	if !in.OK {
		c.Detail = "usable on the host but not inside the box: " + in.Detail
		c.Fix = "allow io_uring for the box's gid (kernel.io_uring_group) or set kernel.io_uring_disabled=0"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("usable inside the box, every opcode the engine needs is there (features %#x)", st.Features)
	return c
}

func ioUringSysctlCheck() Check {
	c := Check{Name: CheckIOUringOn, Required: true}
	b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	if err != nil {
		c.OK = true
		c.Detail = "absent (kernel before 6.6): io_uring is open to every process"
		return c
	}
	v := strings.TrimSpace(string(b))
	gid := BoxIDs().GID
	switch v {
	case "0":
		c.OK = true
		c.Detail = "0: io_uring is open to every process on the host"
	case "1":
		g, _ := os.ReadFile("/proc/sys/kernel/io_uring_group")
		if strings.TrimSpace(string(g)) == strconv.Itoa(gid) {
			c.OK = true
			c.Detail = "1: io_uring is limited to the boxes' group"
		} else {
			c.Detail = "1: io_uring is limited to kernel.io_uring_group, which is not the boxes' gid " + strconv.Itoa(gid)
			c.Fix = "sysctl -w kernel.io_uring_group=" + strconv.Itoa(gid)
		}
	default:
		c.Detail = v + ": io_uring is disabled"
		c.Fix = "sysctl -w kernel.io_uring_disabled=1 kernel.io_uring_group=" + strconv.Itoa(gid)
	}
	return c
}

func goCheck() Check {
	c := Check{Name: CheckGo, Required: true}
	p, err := exec.LookPath("go")
	if err != nil {
		c.Detail = "no go on PATH: submissions cannot be built"
		c.Fix = "install Go and put its bin directory on the server's PATH"
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "version").Output()
	if err != nil {
		c.Detail = "go version: " + err.Error()
		c.Fix = "repair the Go installation at " + p
		return c
	}
	c.OK = true
	c.Detail = strings.TrimSpace(string(out))
	return c
}

func swapCheck() Check {
	c := Check{Name: CheckSwap}
	b, err := os.ReadFile("/proc/swaps")
	lines := strings.Count(strings.TrimSpace(string(b)), "\n")
	if err != nil || lines == 0 {
		c.OK = true
		c.Detail = "off: memory limits are exact"
		return c
	}
	c.Detail = "on: the run cgroups forbid swap, but paging slows every box"
	c.Fix = "swapoff -a"
	return c
}

// vsockCheck looks for AF_VSOCK. The seccomp filter refuses it to
// socket(2), but an io_uring SOCKET op is not a system call and Linux
// before 7.0 has no way to filter it: a box could open a vsock to the
// hypervisor. Not required: on a VM with vsock, weigh it.
func vsockCheck() Check {
	c := Check{Name: CheckVsock}
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.OK = true
		c.Detail = "no AF_VSOCK: the box has no channel to a hypervisor"
		return c
	}
	unix.Close(fd)
	c.Detail = "AF_VSOCK exists: seccomp refuses socket(AF_VSOCK), but io_uring's SOCKET op bypasses seccomp before Linux 7.0"
	c.Fix = "unload vsock (modprobe -r vmw_vsock_virtio_transport) or disable it in the VM, or use Linux 7.0+ io_uring task restrictions"
	return c
}
