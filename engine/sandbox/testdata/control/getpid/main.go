// Command getpid makes a million cheap system calls and prints the fastest
// of five rounds in nanoseconds per call: in a box every call also passes
// the seccomp filter. With the argument "last" it calls the allow list's
// last generic entry, io_uring_register on a bad descriptor (EBADF at
// once), which the filter checks after every other; otherwise getpid, one
// of the first.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

const sysIOUringRegister = 427 // the same on amd64 and arm64

func main() {
	nr, a0 := uintptr(syscall.SYS_GETPID), uintptr(0)
	if len(os.Args) > 1 && os.Args[1] == "last" {
		nr, a0 = sysIOUringRegister, ^uintptr(0)
	}
	const calls = 1_000_000
	best := time.Duration(1 << 62)
	for range 5 {
		t0 := time.Now()
		for range calls {
			syscall.RawSyscall(nr, a0, 0, 0)
		}
		best = min(best, time.Since(t0))
	}
	fmt.Printf("%.1f\n", float64(best.Nanoseconds())/calls)
}
