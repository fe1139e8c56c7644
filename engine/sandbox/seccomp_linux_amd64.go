package sandbox

import "golang.org/x/sys/unix"

// auditArch is the only syscall ABI the filter lets through: i386 calls
// through int 0x80 would use other numbers, so they kill the process.
const auditArch = unix.AUDIT_ARCH_X86_64

// x32Bit marks x32 system calls, which share the x86_64 audit arch.
const x32Bit = 0x40000000

// archDenied are the x86-only calls the filter refuses.
var archDenied = []uint32{unix.SYS_MODIFY_LDT, unix.SYS_IOPL, unix.SYS_IOPERM, unix.SYS_USELIB, unix.SYS_INOTIFY_INIT}
