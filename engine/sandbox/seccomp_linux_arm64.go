package sandbox

import "golang.org/x/sys/unix"

// auditArch is the only syscall ABI the filter lets through: AArch32
// compat calls would use other numbers, so they kill the process.
const auditArch = unix.AUDIT_ARCH_AARCH64

// x32Bit is zero: arm64 has no x32-like ABI sharing its audit arch.
const x32Bit = 0

// archAllowed are the arm64-only calls the filter allows: none, the
// generic table has them all.
var archAllowed []uint32
