package sandbox

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter is an allow list, written as classic BPF by hand. It
// lets through what the Go runtime, the engine, the exercises' harnesses and
// the Go toolchain (the build box) really call, found by tracing every
// exercise's runs and a build (testdata/seccomp-survey.py says how), plus
// the plain calls a handler may reasonably make on its sockets, files and
// rings. Everything
// else fails with ENOSYS, as on a kernel without the call, so that code
// that probes for a newer call falls back to an older one. socket and
// socketpair take only the families the lab uses, and clone no namespace
// flag: those fail with EPERM. A foreign syscall ABI (i386 int 0x80, x32)
// kills the process.
//
// One list serves the build box and the program box. The toolchain's extra
// calls (exec and wait for children, create and rename files) are what any
// program may do inside its mounts and Landlock rules; a second list would
// double the upkeep and close nothing those leave open. execve stays
// allowed because box-init execs the program after loading the filter.

// allowedSyscalls are allowed on every architecture, grouped by what they
// serve.
var allowedSyscalls = []uint32{
	// Threads and processes (the runtime, os/exec in the toolchain).
	unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_FUTEX, unix.SYS_GETTID, unix.SYS_GETPID, unix.SYS_GETPPID,
	unix.SYS_TGKILL, unix.SYS_TKILL, unix.SYS_KILL, unix.SYS_SCHED_YIELD, unix.SYS_SCHED_GETAFFINITY,
	unix.SYS_SCHED_SETAFFINITY, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_EXECVE,
	unix.SYS_WAIT4, unix.SYS_WAITID, unix.SYS_PIDFD_OPEN, unix.SYS_PIDFD_SEND_SIGNAL, unix.SYS_PRCTL,
	unix.SYS_UNAME, unix.SYS_PRLIMIT64, unix.SYS_GETRLIMIT, unix.SYS_SETRLIMIT, unix.SYS_GETRUSAGE,
	unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID, unix.SYS_GETGROUPS,
	unix.SYS_GETPGID, unix.SYS_GETSID, unix.SYS_GETCWD, unix.SYS_CHDIR, unix.SYS_FCHDIR, unix.SYS_UMASK,
	unix.SYS_GETRANDOM, unix.SYS_RESTART_SYSCALL, unix.SYS_SYSINFO, unix.SYS_SETSID, unix.SYS_SETPGID,
	// glibc's thread start. box-init is the server's own binary, which cgo
	// may link against glibc, and a thread its runtime starts after the
	// filter is on registers these; glibc aborts the process ("rseq
	// registration failed") when rseq fails in a thread but not in main.
	unix.SYS_RSEQ, unix.SYS_SET_ROBUST_LIST, unix.SYS_GET_ROBUST_LIST,
	// A filter of the program's own: the engine forbids io_uring_setup
	// once its ring exists (see engine/uring). A filter can only narrow.
	unix.SYS_SECCOMP,
	// Memory.
	unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE, unix.SYS_MPROTECT, unix.SYS_MREMAP,
	// Signals.
	unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN, unix.SYS_SIGALTSTACK,
	// Clocks and timers.
	unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_GETTIMEOFDAY, unix.SYS_TIMER_CREATE,
	unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME, unix.SYS_TIMER_DELETE, unix.SYS_SETITIMER,
	unix.SYS_GETITIMER, unix.SYS_TIMERFD_CREATE, unix.SYS_TIMERFD_SETTIME, unix.SYS_TIMERFD_GETTIME,
	// Descriptors and files, within the box's mounts and Landlock rules.
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PREAD64, unix.SYS_PWRITE64,
	unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_PREADV2, unix.SYS_PWRITEV2, unix.SYS_OPENAT, unix.SYS_CLOSE,
	unix.SYS_CLOSE_RANGE, unix.SYS_LSEEK, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX,
	unix.SYS_STATFS, unix.SYS_FSTATFS, unix.SYS_GETDENTS64, unix.SYS_READLINKAT, unix.SYS_FACCESSAT,
	unix.SYS_FACCESSAT2, unix.SYS_FCNTL, unix.SYS_IOCTL, unix.SYS_DUP, unix.SYS_DUP3, unix.SYS_PIPE2,
	unix.SYS_MKDIRAT, unix.SYS_UNLINKAT, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_LINKAT,
	unix.SYS_SYMLINKAT, unix.SYS_FCHMOD, unix.SYS_FCHMODAT, unix.SYS_FTRUNCATE, unix.SYS_TRUNCATE,
	unix.SYS_FSYNC, unix.SYS_FDATASYNC, unix.SYS_SYNC_FILE_RANGE, unix.SYS_FALLOCATE, unix.SYS_FADVISE64,
	unix.SYS_UTIMENSAT, unix.SYS_FLOCK, unix.SYS_COPY_FILE_RANGE, unix.SYS_SPLICE, unix.SYS_TEE,
	unix.SYS_SENDFILE, unix.SYS_EVENTFD2, unix.SYS_MKNODAT, // fifos; Landlock refuses devices
	// Readiness: epoll, poll and select.
	unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
	unix.SYS_PPOLL, unix.SYS_PSELECT6,
	// Sockets; socket and socketpair are checked by family below.
	unix.SYS_BIND, unix.SYS_LISTEN, unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_CONNECT, unix.SYS_SHUTDOWN,
	unix.SYS_GETSOCKNAME, unix.SYS_GETPEERNAME, unix.SYS_GETSOCKOPT, unix.SYS_SETSOCKOPT, unix.SYS_SENDTO,
	unix.SYS_RECVFROM, unix.SYS_SENDMSG, unix.SYS_RECVMSG, unix.SYS_SENDMMSG, unix.SYS_RECVMMSG,
	// Completion: io_uring is what the lab teaches. Its socket ops are
	// held to the same families by the engine's ring restrictions.
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
}

// socketFamilies are the address families socket and socketpair accept.
var socketFamilies = []uint32{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6}

// cloneNewFlags are the namespace flags clone must not carry. CLONE_NEWTIME
// (0x80) is left out: in clone's flags that bit is the exit signal. clone3
// is not allowed at all (its flags sit in memory the filter cannot read):
// it fails with ENOSYS, and callers fall back to clone.
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
	for _, nr := range slices.Concat(allowedSyscalls, archAllowed) {
		p = append(p, jump(jeq, nr, 0, 1), stmt(ret, retAllow))
	}
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
	return append(p,
		jump(jeq, unix.SYS_CLONE, 0, 4),
		stmt(ldAbs, offArg0),
		jump(jset, cloneNewFlags, 0, 1),
		stmt(ret, retEPERM),
		stmt(ret, retAllow),
		stmt(ret, retNoSys),
	)
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
