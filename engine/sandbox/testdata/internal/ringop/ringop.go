// Package ringop runs one hand-made io_uring operation at a time, for the
// sandbox's test programs.
package ringop

import (
	"runtime"
	"syscall"

	"github.com/asynclab/asynclab/engine/uring"
)

// Opcodes the engine's uring package has no Prep helper for.
const (
	OpOpenat uring.Opcode = 18
	OpSocket uring.Opcode = 45
)

// Ring is a ring on a locked thread.
type Ring struct{ r *uring.Ring }

// Setup locks the calling goroutine to its thread and sets up a ring.
func Setup() (*Ring, error) {
	runtime.LockOSThread()
	r, err := uring.Setup(uring.Options{Entries: 8})
	if err != nil {
		return nil, err
	}
	return &Ring{r}, nil
}

// Do submits one SQE that fill prepares and returns its CQE's result as
// an errno (0 on success) and the raw result.
func (r *Ring) Do(fill func(*uring.SQE)) (syscall.Errno, int32) {
	sqe := r.r.GetSQE()
	fill(sqe)
	if _, err := r.r.SubmitAndWait(1); err != nil {
		return syscall.EIO, -1
	}
	cqe, ok := r.r.PeekCQE()
	if !ok {
		return syscall.EIO, -1
	}
	r.r.Advance(1)
	if cqe.Res < 0 {
		return syscall.Errno(-cqe.Res), cqe.Res
	}
	return 0, cqe.Res
}
