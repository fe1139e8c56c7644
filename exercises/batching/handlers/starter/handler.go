package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
//
// This starter talks to the kernel once per op: it prepares one SQE, makes
// one io_uring_enter that submits it and waits for its completion, and
// reaps one CQE. That is len(offsets)+nops system calls.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	data := make([][]byte, len(offsets))
	cqe := make([]engine.CQE, 1)
	// one submits the op prepared by prep, waits for it and checks its
	// result.
	one := func(prep func() error, want int32) error {
		if err := prep(); err != nil {
			return err
		}
		// A signal can end the wait early: wait again until the CQE is
		// there.
		for n := 0; n == 0; n = r.Reap(cqe) {
			if _, err := r.SubmitAndWait(1); err != nil {
				return err
			}
		}
		if res := cqe[0].Res; res < 0 {
			return sys.Errno(-res)
		} else if res != want {
			return fmt.Errorf("op %d: result %d, want %d", cqe[0].UserData, res, want)
		}
		return nil
	}
	for i, off := range offsets {
		data[i] = make([]byte, size)
		if err := one(func() error { return r.PrepRead(fd, data[i], off, uint64(i)) }, int32(size)); err != nil {
			done(nil, err)
			return
		}
	}
	for i := range nops {
		ud := uint64(len(offsets) + i)
		if err := one(func() error { return r.PrepNop(ud) }, 0); err != nil {
			done(nil, err)
			return
		}
	}
	done(data, nil)
}
