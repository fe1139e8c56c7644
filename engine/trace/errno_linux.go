package trace

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// errnoName returns the symbolic name of a Linux errno, such as "EAGAIN",
// or "" if it has none.
func errnoName(n int64) string {
	return unix.ErrnoName(syscall.Errno(n))
}
