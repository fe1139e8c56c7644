package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The box-init protocol. Run starts /proc/self/exe with argv[0] initArg0
// in fresh namespaces, with these descriptors:
//
//	0 /dev/null, 1 stdout pipe, 2 stderr pipe, 3 trace pipe: the program's
//	4 ctlFD: from the server: a length-prefixed JSON boxConfig, then one
//	  goByte once the server has placed the box in its cgroup and the
//	  peers are ready
//	5 statusFD: to the server, one line each: msgNet when loopback is
//	  up, msgLandlock and the ABI, or msgError and a reason; closed by the
//	  program's exec
//	6.. the detached mounts of the binds (open_tree), in boxConfig order
//
// box-init sets up the mounts and the network, waits for goByte, locks
// itself down and execs the program, which so becomes PID 1 of the box.
const (
	initArg0  = "asynclab-box-init"
	probeArg0 = "asynclab-box-probe"

	ctlFD     = 4
	statusFD  = 5
	firstBind = 6

	goByte      = 'G'
	msgNet      = 'N'
	msgLandlock = 'L'
	msgError    = 'E'
)

// boxConfig is what box-init needs to know, sent by Run.
type boxConfig struct {
	Path  string
	Args  []string
	Env   []string
	Dir   string
	Binds []boxBind
	Files []File
	// Limits for the mounts and rlimits.
	RootSize int64
	Tmpfs    int64
	FileSize int64
	Pids     int
	CPU      int64 // seconds, RLIMIT_CPU
	// CgroupNS asks box-init for the box's cgroup namespace: it was
	// cloned in the server's cgroups and moved into the run's (v1), so a
	// namespace made at clone time would be rooted at the server's.
	CgroupNS bool
}

// boxBind is one bind: from the detached mount FD (a root server) or from
// the host path Host (an unprivileged server, whose box runs as itself).
type boxBind struct {
	Inside   string
	Writable bool
	FD       int
	Host     string
	Dir      bool
}

// The box's fixed layout.
const (
	boxTmp        = "/tmp"
	boxHostname   = "box"
	rlimitNofile  = 256
	rlimitStack   = 8 << 20
	rlimitMemlock = 8 << 20
	// nprocMargin puts RLIMIT_NPROC above the pids cgroup's limit: the
	// cgroup is the limit that bites, and it counts what it refuses
	// (pids.events), which the verdict reports. The rlimit is checked
	// first, so at the same number it would refuse every fork itself.
	nprocMargin = 32
)

// boxDevices are the device nodes bound from the host.
var boxDevices = []string{"null", "zero", "urandom"}

func init() {
	// box-init makes the box's time namespace, whose clock offsets are
	// set through /proc/self (the thread group leader) and which the
	// program enters when the thread that made it execs: all of it must
	// happen on the main thread. LockOSThread in init keeps main there.
	if IsInit() {
		runtime.LockOSThread()
	}
}

// IsInit reports whether this process was started by [Run] as a box's
// init (or by [Doctor] as its probe). main and TestMain call it first:
//
//	if sandbox.IsInit() {
//		sandbox.InitMain()
//	}
func IsInit() bool {
	return len(os.Args) == 1 && (os.Args[0] == initArg0 || os.Args[0] == probeArg0)
}

// InitMain sets up the box from inside and execs the program; it never
// returns. Call it only when [IsInit] reports true.
func InitMain() {
	// Everything from capset to execve must happen on one thread: the
	// capabilities, no_new_privs and Landlock are per-thread, and execve
	// keeps only the calling thread.
	runtime.LockOSThread()
	if os.Args[0] == probeArg0 {
		os.Exit(probeMain())
	}
	status := os.NewFile(statusFD, "status")
	send := func(kind byte, s string) error {
		_, err := status.Write([]byte(string(kind) + strings.ReplaceAll(s, "\n", " ") + "\n"))
		return err
	}
	fail := func(err error) {
		send(msgError, err.Error())
		os.Exit(127)
	}
	ctl := os.NewFile(ctlFD, "ctl")
	cfg, err := readConfig(ctl)
	if err != nil {
		fail(fmt.Errorf("read config: %w", err))
	}
	// The server has put box-init in the run's cgroups by now: it sends
	// the config after that.
	if cfg.CgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			fail(os.NewSyscallError("unshare(CLONE_NEWCGROUP)", err))
		}
	}
	if err := newTimeNS(); err != nil {
		fail(err)
	}
	if err := setupMounts(cfg); err != nil {
		fail(err)
	}
	if err := unix.Sethostname([]byte(boxHostname)); err != nil {
		fail(os.NewSyscallError("sethostname", err))
	}
	if err := loopbackUp(); err != nil {
		fail(err)
	}
	if err := send(msgNet, ""); err != nil {
		os.Exit(127)
	}
	var b [1]byte
	if _, err := io.ReadFull(ctl, b[:]); err != nil || b[0] != goByte {
		os.Exit(127) // the server gave up on the run
	}
	ctl.Close()
	abi, err := lockDown(cfg)
	if err != nil {
		fail(err)
	}
	send(msgLandlock, strconv.Itoa(abi))
	// Only fds 0-3 reach the program; status closes on exec, which tells
	// the server the program runs.
	if err := unix.CloseRange(4, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fail(os.NewSyscallError("close_range", err))
	}
	args := cfg.Args
	if len(args) == 0 {
		args = []string{cfg.Path}
	}
	err = unix.Exec(cfg.Path, args, cfg.Env)
	fail(fmt.Errorf("exec %s: %w", cfg.Path, err))
}

func readConfig(r io.Reader) (*boxConfig, error) {
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	cfg := new(boxConfig)
	return cfg, json.Unmarshal(b, cfg)
}

// newTimeNS makes the time namespace the program will run in (it enters
// it at exec), with the boot clock starting from zero: /proc/uptime,
// sysinfo and CLOCK_BOOTTIME tell the box's age, not the host's. The
// monotonic clock keeps the host's: io_uring's absolute timeouts
// (IORING_TIMEOUT_ABS, IORING_ENTER_ABS_TIMER) are read on the host's
// clocks, untranslated, and a shifted monotonic clock would fire every
// absolute deadline the program sets at once. Absolute io_uring timeouts
// on the boot clock (IORING_TIMEOUT_BOOTTIME) are off by the host's
// uptime in the box for the same reason.
func newTimeNS() error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return os.NewSyscallError("unshare(CLONE_NEWTIME)", err)
	}
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &now); err != nil {
		return os.NewSyscallError("clock_gettime", err)
	}
	// The clock may not go below zero in the namespace: only whole
	// seconds are taken off, and the clock moves on after the read.
	off := fmt.Sprintf("%d %d 0\n", unix.CLOCK_BOOTTIME, -now.Sec)
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(off), 0); err != nil {
		return fmt.Errorf("set the box's boot clock: %w", err)
	}
	return nil
}

// newRootDir returns the directory the box's new root is mounted on: any
// directory of the host tree will do, since the mount is private to the
// box's mount namespace and the old tree is detached afterwards.
func newRootDir() (string, error) {
	for _, d := range []string{"/tmp", "/mnt", "/run", "/var/tmp", "/dev"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", errors.New("no directory to mount the box's root on")
}

// setupMounts builds the box's filesystem: a tmpfs root with the binds,
// the device nodes, /proc and a tmpfs /tmp, then pivots into it, detaches
// the host's tree and makes the root read-only. Each step is a function
// below; in() names a path inside the new root.
func setupMounts(cfg *boxConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root, err := newRootDir()
	if err != nil {
		return err
	}
	opts := "mode=0755,nr_inodes=4096,size=" + strconv.FormatInt(cfg.RootSize, 10)
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	in := func(p string) string { return root + path.Clean("/"+p) }
	for _, step := range []func(*boxConfig, func(string) string) error{
		mountTmp, mountDevices, mountBinds, mountProc, writeFiles,
	} {
		if err := step(cfg, in); err != nil {
			return err
		}
	}
	return enterRoot(root, cfg.Dir)
}

// mountTmp mounts the box's /tmp: a tmpfs of cfg.Tmpfs bytes, noexec.
func mountTmp(cfg *boxConfig, in func(string) string) error {
	tmp := in(boxTmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	opts := "mode=01777,nr_inodes=16384,size=" + strconv.FormatInt(cfg.Tmpfs, 10)
	if err := unix.Mount("tmpfs", tmp, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	return nil
}

// mountDevices binds the few host devices a program needs (boxDevices),
// nosuid and noexec, and links /dev/fd and the standard streams.
func mountDevices(_ *boxConfig, in func(string) string) error {
	if err := os.MkdirAll(in("/dev"), 0o755); err != nil {
		return err
	}
	for _, d := range boxDevices {
		t := in("/dev/" + d)
		if err := os.WriteFile(t, nil, 0o644); err != nil {
			return err
		}
		if err := unix.Mount("/dev/"+d, t, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
		if err := setMountAttr(t, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC); err != nil {
			return err
		}
	}
	for link, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, in("/dev/"+link)); err != nil {
			return err
		}
	}
	return nil
}

// mountBinds shows the spec's binds in the box: files and writable
// directories attached directly, read-only directories through an
// overlay staged in stageDir, which is removed afterwards.
func mountBinds(cfg *boxConfig, in func(string) string) error {
	for i, b := range cfg.Binds {
		t := in(b.Inside)
		if err := mkMountPoint(t, b.Dir); err != nil {
			return fmt.Errorf("bind %s: %w", b.Inside, err)
		}
		if !b.Dir || b.Writable {
			if err := attachBind(b, t); err != nil {
				return fmt.Errorf("bind %s: %w", b.Inside, err)
			}
			continue
		}
		if err := neutralBind(b, t, in(stageDir), i); err != nil {
			return fmt.Errorf("bind %s: %w", b.Inside, err)
		}
	}
	return os.RemoveAll(in(stageDir))
}

// mountProc mounts a proc of the box's own pid namespace, while the
// host's proc is still visible (the kernel requires that in a user
// namespace). subset=pid (5.8) leaves out /proc/sys and the other
// system-wide files.
func mountProc(_ *boxConfig, in func(string) string) error {
	if err := os.MkdirAll(in("/proc"), 0o555); err != nil {
		return err
	}
	procFlags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount("proc", in("/proc"), "proc", procFlags, "subset=pid"); err != nil {
		if err := unix.Mount("proc", in("/proc"), "proc", procFlags, ""); err != nil {
			return fmt.Errorf("mount /proc: %w", err)
		}
	}
	return nil
}

// writeFiles writes the spec's files into the root, with their modes.
func writeFiles(cfg *boxConfig, in func(string) string) error {
	for _, f := range cfg.Files {
		t := in(f.Inside)
		if err := os.MkdirAll(path.Dir(t), 0o755); err != nil {
			return fmt.Errorf("file %s: %w", f.Inside, err)
		}
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(t, f.Data, mode); err != nil {
			return fmt.Errorf("file %s: %w", f.Inside, err)
		}
		if err := os.Chmod(t, mode); err != nil { // past the umask
			return fmt.Errorf("file %s: %w", f.Inside, err)
		}
	}
	return nil
}

// enterRoot pivots into root, detaches the host's tree, makes the root
// read-only and changes to dir (default /).
func enterRoot(root, dir string) error {
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's tree: %w", err)
	}
	if err := setMountAttr("/", unix.MOUNT_ATTR_RDONLY); err != nil {
		return fmt.Errorf("make / read-only: %w", err)
	}
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	return nil
}

// stageDir is where neutralBind attaches a bind before it is shown in the
// box through an overlay; it is gone before the program runs.
const stageDir = "/.stage"

// attachBind mounts the bind b on t.
func attachBind(b boxBind, t string) error {
	if b.FD >= 0 {
		if err := unix.MoveMount(b.FD, "", unix.AT_FDCWD, t, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return os.NewSyscallError("move_mount", err)
		}
		unix.Close(b.FD)
		return nil
	}
	if err := unix.Mount(b.Host, t, "", unix.MS_BIND, ""); err != nil {
		return os.NewSyscallError("mount", err)
	}
	return setMountAttr(t, bindAttr(b.Writable))
}

// neutralBind shows the read-only directory bind b at t through an
// overlay of it alone. /proc/self/mountinfo gives each mount's root as a
// path in its filesystem, which for a bind is where the directory lies on
// the host: the server's layout, a submission's id. The overlay's root is
// its own "/", and its layers are named by the paths they had in the box
// when it was mounted, relative to the stage: "0:empty". (An overlay with
// no upper layer needs two lower ones; the second is empty.)
func neutralBind(b boxBind, t, stage string, i int) error {
	name := strconv.Itoa(i)
	for _, d := range []string{name, "empty"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
			return err
		}
	}
	src := filepath.Join(stage, name)
	if err := attachBind(b, src); err != nil {
		return err
	}
	// Back to the working directory by descriptor: its path may lie
	// under the box's new root (a server started in /tmp), hidden now.
	wd, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("open .", err)
	}
	defer unix.Close(wd)
	if err := unix.Chdir(stage); err != nil {
		return err
	}
	err = unix.Mount("overlay", t, "overlay", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "lowerdir="+name+":empty")
	if e := unix.Fchdir(wd); err == nil && e != nil {
		err = fmt.Errorf("back to the working directory: %w", e)
	}
	if err != nil {
		return fmt.Errorf("overlay: %w", os.NewSyscallError("mount", err))
	}
	// The overlay holds its own clones of its layers.
	if err := unix.Unmount(src, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the staged bind: %w", err)
	}
	return nil
}

// bindAttr returns the mount attributes of a bind.
func bindAttr(writable bool) uint64 {
	if writable {
		return unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	}
	return unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
}

// setMountAttr sets attributes on the mount at p, keeping the others (a
// remount would have to repeat the locked ones).
func setMountAttr(p string, attr uint64) error {
	err := unix.MountSetattr(unix.AT_FDCWD, p, 0, &unix.MountAttr{Attr_set: attr})
	return os.NewSyscallError("mount_setattr", err)
}

// mkMountPoint creates an empty directory or file to mount on.
func mkMountPoint(p string, dir bool) error {
	if dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// loopbackUp brings lo up: a new network namespace has it down, and no
// other interface.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFFLAGS", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCSIFFLAGS", err)
	}
	return nil
}

// lockDown applies the rlimits, Landlock, the capability drop,
// no_new_privs and the seccomp filter, in an order where each step still
// has the rights it needs, and returns the Landlock ABI used.
func lockDown(cfg *boxConfig) (int, error) {
	if err := setRlimits(cfg); err != nil {
		return 0, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 0, os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	rules := []landlockRule{{"/", llRead}, {boxTmp, llWrite}}
	for _, d := range boxDevices {
		rules = append(rules, landlockRule{"/dev/" + d, llDev})
	}
	for _, b := range cfg.Binds {
		if b.Writable {
			rules = append(rules, landlockRule{b.Inside, llWrite})
		}
	}
	abi, err := restrictLandlock(rules)
	if err != nil {
		return 0, err
	}
	if err := dropCaps(); err != nil {
		return 0, err
	}
	if err := loadSeccomp(); err != nil {
		return 0, err
	}
	return abi, nil
}

// setRlimits sets each limit hard (soft = hard), so that neither the Go
// runtime (which raises RLIMIT_NOFILE's soft limit at start) nor the
// program can raise it. RLIMIT_AS and RLIMIT_DATA stay unlimited: Go
// reserves far more address space than it uses; the memory cgroup is the
// memory limit. A limit above the inherited hard limit cannot be set and
// is left at the inherited one.
func setRlimits(cfg *boxConfig) error {
	lims := []struct {
		res int
		v   uint64
	}{
		{unix.RLIMIT_NOFILE, rlimitNofile},
		{unix.RLIMIT_NPROC, uint64(cfg.Pids + nprocMargin)},
		{unix.RLIMIT_FSIZE, uint64(cfg.FileSize)},
		{unix.RLIMIT_CORE, 0},
		{unix.RLIMIT_STACK, rlimitStack},
		{unix.RLIMIT_MEMLOCK, rlimitMemlock},
		{unix.RLIMIT_MSGQUEUE, 0},
		{unix.RLIMIT_CPU, uint64(cfg.CPU)},
		{unix.RLIMIT_RTPRIO, 0},
		{unix.RLIMIT_NICE, 0},
	}
	for _, l := range lims {
		var old unix.Rlimit
		if err := unix.Getrlimit(l.res, &old); err != nil {
			return os.NewSyscallError("getrlimit", err)
		}
		v := min(l.v, old.Max)
		if err := unix.Setrlimit(l.res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			return fmt.Errorf("setrlimit(%d): %w", l.res, err)
		}
	}
	return nil
}

// Secure bits (linux/securebits.h): the program's root uid gains no
// capabilities on exec, and the box can never undo that.
const (
	secbitNoroot             = 1 << 0
	secbitNorootLocked       = 1 << 1
	secbitNoSetuidFixup      = 1 << 2
	secbitNoSetuidFixupLock  = 1 << 3
	secbitKeepCapsLocked     = 1 << 5
	secbitNoCapAmbientRaise  = 1 << 6
	secbitNoCapAmbientLocked = 1 << 7
)

// dropCaps empties the bounding, ambient, inheritable, permitted and
// effective sets and locks the secure bits. The program runs as root of
// its user namespace (mapped to an unprivileged host user) without any
// capability, even after exec.
func dropCaps() error {
	last, err := lastCap()
	if err != nil {
		return err
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return os.NewSyscallError("prctl(PR_CAPBSET_DROP)", err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_CAP_AMBIENT)", err)
	}
	bits := secbitNoroot | secbitNorootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLock |
		secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientLocked
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_SECUREBITS)", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	return nil
}

func lastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		// subset=pid hides /proc/sys; 63 covers every capability there
		// can be (PR_CAPBSET_DROP fails with EINVAL past the last).
		return 63, nil
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
