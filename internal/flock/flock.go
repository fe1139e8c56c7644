// Package flock holds exclusive flock(2) locks on files and directories: a
// data directory's single owner, a build directory's live builder. The
// kernel drops a lock when its holder exits, however it exits, so a lock
// left by a killed process is never stale.
package flock

import (
	"errors"
	"fmt"
)

// ErrLocked means another open file description holds the lock, usually
// one of another process.
var ErrLocked = errors.New("locked by another process")

// HeldError is the error of [Acquire] when the lock is taken. It names the
// process holding it, where that could be found.
type HeldError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is locked by another process", e.Path)
	}
	return fmt.Sprintf("%s is locked by process %d", e.Path, e.PID)
}

// Unwrap makes errors.Is(err, ErrLocked) hold.
func (e *HeldError) Unwrap() error { return ErrLocked }
