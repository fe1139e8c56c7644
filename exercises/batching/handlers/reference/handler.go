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
// It works in whole batches: it fills the submission queue until it holds
// r.Entries() SQEs (or ErrSQFull says it is full), makes one io_uring_enter
// that submits the batch and waits for all of it, and reaps every
// completion from the shared completion queue without another system call.
// Ops 0..len(offsets)-1 are the reads, the rest the NOPs; the user_data of
// each SQE is its op's index.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, r.Entries())
	next, inflight := 0, 0
	for next < total || inflight > 0 {
		if inflight == 0 {
			// Prepare a batch: writes to shared memory, no system call.
			for next < total {
				var err error
				if next < len(offsets) {
					data[next] = make([]byte, size)
					err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
				} else {
					err = r.PrepNop(uint64(next))
				}
				if err == engine.ErrSQFull {
					break // the SQ is full: this op goes into the next batch
				}
				if err != nil {
					done(nil, err)
					return
				}
				next++
				inflight++
			}
		}
		// One enter for the whole batch. Reads of a tmpfs file complete
		// later, on the kernel's io-wq threads: wait for every op in
		// flight, not just the first. (A signal can end the wait early;
		// the loop then waits again for the rest.)
		if _, err := r.SubmitAndWait(inflight); err != nil {
			done(nil, err)
			return
		}
		// Reap everything ready: the CQ is shared memory.
		for n := r.Reap(cqes); n > 0; n = r.Reap(cqes) {
			for _, c := range cqes[:n] {
				inflight--
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
