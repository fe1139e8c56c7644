package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// batch is how many SQEs go into one io_uring_enter. One keeps the
// latency of each op as low as it gets, or so the reasoning goes.
const batch = 1

// Batch reads size bytes from fd at each of offsets and runs nops NOPs
// through r in batches of batch SQEs, then calls done with the bytes of
// each read.
//
// Known wrong: it is written as a batching loop, but with batches of one it
// is the starter again: one io_uring_enter per op.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())
	next, inflight, completed := 0, 0, 0
	for completed < total {
		for next < total && inflight < batch {
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
		if _, err := r.SubmitAndWait(1); err != nil {
			done(nil, err)
			return
		}
		for n := r.Reap(cqes); n > 0; n = r.Reap(cqes) {
			for _, c := range cqes[:n] {
				inflight--
				completed++
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
	}
	done(data, nil)
}
