package uring

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ring restrictions bind one ring, and io_uring ops are not system calls,
// so seccomp cannot see them: a program that may call io_uring_setup can
// make an unrestricted ring and open any socket through it
// (IORING_OP_SOCKET, AF_VSOCK included), whatever its restricted rings
// allow. Linux 7.0 adds task-wide io_uring restrictions; before it, the
// way to close the path is to refuse io_uring_setup itself once the
// program has every ring it needs. Seccomp filters stack and cannot be
// removed, so a filter installed after the rings exist holds for the rest
// of the process's life, and for its children.

// auditArches maps GOARCH to the AUDIT_ARCH_* value seccomp reports for
// the native system call ABI.
var auditArches = map[string]uint32{
	"amd64":   unix.AUDIT_ARCH_X86_64,
	"arm64":   unix.AUDIT_ARCH_AARCH64,
	"riscv64": unix.AUDIT_ARCH_RISCV64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE,
	"s390x":   unix.AUDIT_ARCH_S390X,
	"loong64": unix.AUDIT_ARCH_LOONGARCH64,
}

// x32Bit marks an x32 system call on amd64, which shares the x86_64 audit
// arch and would otherwise slip past a check of the number.
const x32Bit = 0x40000000

var forbid struct {
	mu   sync.Mutex
	done bool
}

// forbidFilter returns the classic BPF program: io_uring_setup fails with
// EPERM, and so does any call through a foreign ABI (i386 int 0x80, x32),
// whose numbers the filter does not read; everything else is allowed.
func forbidFilter(arch uint32) []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
		offNr = 0 // struct seccomp_data
		offAr = 4
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		allow = unix.SECCOMP_RET_ALLOW
	)
	p := []unix.SockFilter{
		{Code: ldAbs, K: offAr},
		{Code: jeq, K: arch, Jt: 1},
		{Code: ret, K: eperm},
		{Code: ldAbs, K: offNr},
	}
	if arch == unix.AUDIT_ARCH_X86_64 {
		p = append(p, unix.SockFilter{Code: jge, K: x32Bit, Jf: 1}, unix.SockFilter{Code: ret, K: eperm})
	}
	return append(p,
		unix.SockFilter{Code: jeq, K: unix.SYS_IO_URING_SETUP, Jf: 1},
		unix.SockFilter{Code: ret, K: eperm},
		unix.SockFilter{Code: ret, K: allow})
}

// ForbidNewRings makes io_uring_setup fail with EPERM in every thread of
// the process from now on, and in every process it starts: rings that
// already exist keep working, and no new ring can be made, restricted or
// not. Call it once every ring the program needs exists. It cannot be
// undone; a second call does nothing.
//
// It installs a seccomp filter with SECCOMP_FILTER_FLAG_TSYNC, so the Go
// runtime's threads, present and future, all carry it. The kernel accepts
// a filter only from a process with no_new_privs (or CAP_SYS_ADMIN), so
// ForbidNewRings sets PR_SET_NO_NEW_PRIVS first; a sandboxed process has it
// already. It fails where seccomp filters are unavailable (a kernel without
// CONFIG_SECCOMP_FILTER) or on an architecture it has no audit arch for:
// a caller that needs the guarantee must then refuse to run untrusted code.
func ForbidNewRings() error {
	forbid.mu.Lock()
	defer forbid.mu.Unlock()
	if forbid.done {
		return nil
	}
	arch, ok := auditArches[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("uring: forbid new rings: no seccomp audit arch for %s", runtime.GOARCH)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	p := forbidFilter(arch)
	prog := unix.SockFprog{Len: uint16(len(p)), Filter: &p[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(p)
	if errno != 0 {
		return os.NewSyscallError("seccomp", errno)
	}
	if r != 0 {
		// TSYNC names the thread whose filters differ from the caller's.
		return fmt.Errorf("uring: forbid new rings: thread %d cannot take the filter", r)
	}
	forbid.done = true
	return nil
}

// NewRingsForbidden reports whether ForbidNewRings has run in this process.
func NewRingsForbidden() bool {
	forbid.mu.Lock()
	defer forbid.mu.Unlock()
	return forbid.done
}
