//go:build !linux

package uring

import "runtime"

// Check reports that io_uring is unavailable: it exists only on Linux.
func Check() Status {
	return Status{Reason: "io_uring needs Linux; this is " + runtime.GOOS}
}
