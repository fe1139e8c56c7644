package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs
// through r, then calls done with the bytes of each read.
//
// Known wrong: it fills the SQ and submits the whole batch with one
// io_uring_enter, but then enters the kernel again for every completion,
// waiting for one CQE and reaping one CQE at a time. Completions are in
// shared memory: once the batch has run they can all be reaped without a
// system call.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqe := make([]engine.CQE, 1)
	next, completed := 0, 0
	for completed < total {
		inflight := 0
		for next < total {
			var err error
			if next < len(offsets) {
				data[next] = make([]byte, size)
				err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
			} else {
				err = r.PrepNop(uint64(next))
			}
			if err == engine.ErrSQFull {
				break
			}
			if err != nil {
				done(nil, err)
				return
			}
			next++
			inflight++
		}
		if _, err := r.Submit(); err != nil {
			done(nil, err)
			return
		}
		for ; inflight > 0; inflight-- {
			for n := 0; n == 0; n = r.Reap(cqe) {
				if _, err := r.SubmitAndWait(1); err != nil {
					done(nil, err)
					return
				}
			}
			completed++
			c := cqe[0]
			if c.Res < 0 {
				done(nil, sys.Errno(-c.Res))
				return
			}
			if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
				done(nil, fmt.Errorf("read %d: %d bytes, want %d", c.UserData, c.Res, size))
				return
			}
		}
	}
	done(data, nil)
}
