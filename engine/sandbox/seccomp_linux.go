package sandbox

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter is a deny list, written as classic BPF by hand: the
// box's first line of defence is its namespaces, cgroup and dropped
// capabilities, and the filter only closes what those leave open to an
// unprivileged root-in-a-userns, plus the kernel attack surface no lab
// program needs. An allow list would have to follow every Go release's
// runtime and every x/sys call a student may use. io_uring_setup, _enter
// and _register stay allowed: io_uring is what the lab teaches.
//
// Denied calls fail with EPERM (clone3 with ENOSYS, so that callers fall
// back to clone, whose flags the filter can read); a foreign syscall ABI
// (i386 int 0x80, x32) kills the process.

// deniedSyscalls fail with EPERM.
var deniedSyscalls = []uint32{
	// Namespaces, mounts and the filesystem tree.
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT,
	unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR, unix.SYS_CHROOT, unix.SYS_OPEN_BY_HANDLE_AT,
	// Other processes' memory and descriptors.
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PIDFD_GETFD,
	unix.SYS_PROCESS_MADVISE, unix.SYS_KCMP, unix.SYS_MOVE_PAGES, unix.SYS_MIGRATE_PAGES,
	// Kernel attack surface.
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD, unix.SYS_KEYCTL, unix.SYS_ADD_KEY,
	unix.SYS_REQUEST_KEY, unix.SYS_PERSONALITY, unix.SYS_LOOKUP_DCOOKIE,
	// Host-wide counts: the inotify instances of a box count against the
	// limit of the user who made its user namespace (root, for a root
	// server), so a box could take the host's share; fanotify marks
	// whole mounts. No handler watches files.
	unix.SYS_INOTIFY_INIT1, unix.SYS_FANOTIFY_INIT,
	// The machine.
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE,
	unix.SYS_DELETE_MODULE, unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT,
	unix.SYS_QUOTACTL, unix.SYS_QUOTACTL_FD, unix.SYS_SYSLOG, unix.SYS_VHANGUP,
	unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME, unix.SYS_SETTIMEOFDAY, unix.SYS_ADJTIMEX,
}

// socketFamilies are the address families socket and socketpair accept.
var socketFamilies = []uint32{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6}

// cloneNewFlags are the namespace flags clone must not carry. CLONE_NEWTIME
// (0x80) is left out: in clone's flags that bit is the exit signal.
const cloneNewFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits of args[0] on little-endian machines
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

const (
	ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	ret   = unix.BPF_RET | unix.BPF_K

	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
	retEPERM = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retNoSys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

// filter returns the box's seccomp program.
func filter() []unix.SockFilter {
	p := []unix.SockFilter{
		stmt(ldAbs, offArch),
		jump(jeq, auditArch, 1, 0),
		stmt(ret, retKill),
		stmt(ldAbs, offNr),
	}
	if x32Bit != 0 {
		p = append(p, jump(jge, x32Bit, 0, 1), stmt(ret, retKill))
	}
	deny := func(nr, action uint32) {
		p = append(p, jump(jeq, nr, 0, 1), stmt(ret, action))
	}
	for _, nr := range deniedSyscalls {
		deny(nr, retEPERM)
	}
	for _, nr := range archDenied {
		deny(nr, retEPERM)
	}
	deny(unix.SYS_CLONE3, retNoSys)
	// The argument checks load args[0] into A, so each block ends in a
	// return and comes after every check that needs A = nr.
	for _, nr := range []uint32{unix.SYS_SOCKET, unix.SYS_SOCKETPAIR} {
		n := len(socketFamilies)
		p = append(p, jump(jeq, nr, 0, uint8(n+3)), stmt(ldAbs, offArg0))
		for i, fam := range socketFamilies {
			p = append(p, jump(jeq, fam, uint8(n-i), 0))
		}
		p = append(p, stmt(ret, retEPERM), stmt(ret, retAllow))
	}
	p = append(p,
		jump(jeq, unix.SYS_CLONE, 0, 4),
		stmt(ldAbs, offArg0),
		jump(jset, cloneNewFlags, 0, 1),
		stmt(ret, retEPERM),
		stmt(ret, retAllow),
		stmt(ret, retAllow),
	)
	return p
}

// loadSeccomp installs the filter on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC). no_new_privs must already be set.
func loadSeccomp() error {
	if auditArch == 0 {
		return errors.New("seccomp: no filter for this architecture")
	}
	p := filter()
	prog := unix.SockFprog{Len: uint16(len(p)), Filter: &p[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		return os.NewSyscallError("seccomp", e)
	}
	if r != 0 {
		// TSYNC names the thread it could not synchronise.
		return fmt.Errorf("seccomp: thread %d cannot take the filter", r)
	}
	return nil
}
