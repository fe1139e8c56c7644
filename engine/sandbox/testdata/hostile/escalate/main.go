// Command escalate tries the system calls that could take it out of the
// box or into the kernel: mounts, namespaces, ptrace, bpf, keys, modules,
// raw and netlink sockets and more. Only io_uring must work.
package main

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		time.Sleep(time.Hour)
	}
	child, err := syscall.ForkExec("/proc/self/exe", []string{"escalate", "child"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	report.Line("fork", err)
	raw := func(name string, trap uintptr, a ...uintptr) {
		var args [6]uintptr
		copy(args[:], a)
		_, _, e := syscall.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
		report.Text(name, report.Errno(e))
	}
	report.Line("mount", unix.Mount("tmpfs", "/tmp", "tmpfs", 0, ""))
	report.Line("umount2", unix.Unmount("/proc", unix.MNT_DETACH))
	report.Line("pivot_root", unix.PivotRoot("/tmp", "/tmp"))
	report.Line("chroot", unix.Chroot("/tmp"))
	_, err = unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE)
	report.Line("open_tree", err)
	_, err = unix.Fsopen("tmpfs", 0)
	report.Line("fsopen", err)
	report.Line("unshare user", unix.Unshare(unix.CLONE_NEWUSER))
	report.Line("unshare net", unix.Unshare(unix.CLONE_NEWNET))
	report.Line("unshare mount", unix.Unshare(unix.CLONE_NEWNS))
	_, err = syscall.ForkExec("/proc/self/exe", []string{"escalate", "child"}, &syscall.ProcAttr{
		Sys: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER},
	})
	report.Line("clone newuser", err)
	var cl [88]byte
	raw("clone3", unix.SYS_CLONE3, uintptr(unsafe.Pointer(&cl[0])), uintptr(len(cl)))
	if fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY, 0); err == nil {
		report.Line("setns", unix.Setns(fd, unix.CLONE_NEWNET))
	} else {
		report.Line("setns open", err)
	}
	raw("ptrace attach", unix.SYS_PTRACE, unix.PTRACE_ATTACH, uintptr(child))
	raw("ptrace traceme", unix.SYS_PTRACE, unix.PTRACE_TRACEME)
	var iov [16]byte
	raw("process_vm_readv", unix.SYS_PROCESS_VM_READV, uintptr(child), uintptr(unsafe.Pointer(&iov[0])), 1, uintptr(unsafe.Pointer(&iov[0])), 1, 0)
	raw("bpf", unix.SYS_BPF, unix.BPF_PROG_LOAD, 0, 0)
	var attr [128]byte
	raw("perf_event_open", unix.SYS_PERF_EVENT_OPEN, uintptr(unsafe.Pointer(&attr[0])), 0, ^uintptr(0), ^uintptr(0), 0)
	raw("userfaultfd", unix.SYS_USERFAULTFD, 0)
	raw("keyctl", unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, ^uintptr(2), 0)
	typ, desc := []byte("user\x00"), []byte("x\x00")
	raw("add_key", unix.SYS_ADD_KEY, uintptr(unsafe.Pointer(&typ[0])), uintptr(unsafe.Pointer(&desc[0])), 0, 0, ^uintptr(1))
	raw("init_module", unix.SYS_INIT_MODULE, 0, 0, 0)
	raw("finit_module", unix.SYS_FINIT_MODULE, 0, 0, 0)
	raw("kexec_load", unix.SYS_KEXEC_LOAD, 0, 0, 0, 0)
	raw("reboot", unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2, unix.LINUX_REBOOT_CMD_CAD_OFF)
	raw("personality", unix.SYS_PERSONALITY, 0xffffffff)
	var ts unix.Timespec
	raw("clock_settime", unix.SYS_CLOCK_SETTIME, unix.CLOCK_REALTIME, uintptr(unsafe.Pointer(&ts)))
	for _, s := range []struct {
		name string
		fam  int
		typ  int
	}{
		{"socket packet", unix.AF_PACKET, unix.SOCK_RAW},
		{"socket netlink", unix.AF_NETLINK, unix.SOCK_RAW},
		{"socket vsock", unix.AF_VSOCK, unix.SOCK_STREAM},
		{"socket bluetooth", unix.AF_BLUETOOTH, unix.SOCK_STREAM},
		{"socket inet", unix.AF_INET, unix.SOCK_STREAM},
		{"socket inet6", unix.AF_INET6, unix.SOCK_DGRAM},
		{"socket unix", unix.AF_UNIX, unix.SOCK_STREAM},
	} {
		fd, err := unix.Socket(s.fam, s.typ, 0)
		if err == nil {
			unix.Close(fd)
		}
		report.Line(s.name, err)
	}
	_, err = unix.Socketpair(unix.AF_NETLINK, unix.SOCK_RAW, 0)
	report.Line("socketpair netlink", err)
	var p struct {
		sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
		resv                                                                   [3]uint32
		off                                                                    [80]byte
	}
	fd, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&p)), 0)
	if e == 0 {
		unix.Close(int(fd))
	}
	report.Text("io_uring_setup", report.Errno(e))
	// Allowed by the filter, refused for want of capabilities.
	report.Line("mknod", unix.Mknod("/tmp/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	report.Line("sethostname", unix.Sethostname([]byte("owned")))
	report.Line("setuid", unix.Setuid(1000))
	report.Line("raise nofile", unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1 << 20, Max: 1 << 20}))
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{{Effective: ^uint32(0), Permitted: ^uint32(0)}, {Effective: ^uint32(0), Permitted: ^uint32(0)}}
	report.Line("capset", unix.Capset(&hdr, &data[0]))
	report.Line("securebits", unix.Prctl(unix.PR_SET_SECUREBITS, 0, 0, 0, 0))
	report.Line("oom_score_adj", os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0))
	report.Line("nice", unix.Setpriority(unix.PRIO_PROCESS, 0, -20))
}
