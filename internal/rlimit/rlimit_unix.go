//go:build unix

// Package rlimit reads the process's resource limits where the platform
// has them.
package rlimit

import "syscall"

// OpenFiles returns the process's soft limit on open descriptors; ok is
// false where it cannot be read.
func OpenFiles() (n uint64, ok bool) {
	var nofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
		return 0, false
	}
	return uint64(nofile.Cur), true
}
