package sandbox

import "golang.org/x/sys/unix"

// auditArch is the only syscall ABI the filter lets through: i386 calls
// through int 0x80 would use other numbers, so they kill the process.
const auditArch = unix.AUDIT_ARCH_X86_64

// x32Bit marks x32 system calls, which share the x86_64 audit arch.
const x32Bit = 0x40000000

// archAllowed are the x86-64 calls with no counterpart in the generic
// table that Go and x/sys make on amd64 (x/sys's EpollWait is epoll_wait
// there, its Pipe is pipe, and so on), and arch_prctl, which the runtime
// sets up each thread with.
var archAllowed = []uint32{
	unix.SYS_ARCH_PRCTL, unix.SYS_OPEN, unix.SYS_STAT, unix.SYS_LSTAT, unix.SYS_ACCESS, unix.SYS_READLINK,
	unix.SYS_PIPE, unix.SYS_DUP2, unix.SYS_POLL, unix.SYS_SELECT, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_CREATE,
	unix.SYS_GETDENTS, unix.SYS_UNLINK, unix.SYS_RMDIR, unix.SYS_MKDIR, unix.SYS_RENAME, unix.SYS_TIME,
	unix.SYS_EVENTFD, unix.SYS_GETPGRP,
}
