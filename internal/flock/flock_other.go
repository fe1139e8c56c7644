//go:build !unix

package flock

import (
	"errors"
	"os"
)

// Lock is an exclusive lock held on a file; this platform has none.
type Lock struct{}

// Acquire reports that this platform has no flock.
func Acquire(path string) (*Lock, error) { return nil, errors.ErrUnsupported }

// Path returns "".
func (l *Lock) Path() string { return "" }

// Close does nothing.
func (l *Lock) Close() error { return nil }

// TryLock reports that this platform has no flock.
func TryLock(f *os.File) error { return errors.ErrUnsupported }
