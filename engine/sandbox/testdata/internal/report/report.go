// Package report prints the outcome of each attempt of a test program as
// "name<TAB>result" lines, result being "ok", an errno name such as
// "EPERM", or "err: text", for the sandbox tests to parse.
package report

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Result names err's outcome.
func Result(err error) string {
	if err == nil {
		return "ok"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return "err: " + err.Error()
}

// Errno names a raw syscall result.
func Errno(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	return Result(e)
}

// Line prints one attempt.
func Line(name string, err error) {
	fmt.Printf("%s\t%s\n", name, Result(err))
}

// Text prints one attempt with a free-form result.
func Text(name, result string) {
	fmt.Printf("%s\t%s\n", name, result)
}
