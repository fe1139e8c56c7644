package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs
// through r, then calls done with the bytes of each read.
//
// Known wrong: it sizes its batches by the completion queue, which has
// twice as many entries as the submission queue, and ignores the error of
// each Prep. Once the SQ is full every Prep returns ErrSQFull and that op
// is silently dropped: it is never submitted, its buffer stays zero, and
// done is called as if everything had run.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	batch := 2 * r.Entries() // the CQ's size
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, batch)
	for next := 0; next < total; next += batch {
		for i := next; i < next+batch && i < total; i++ {
			if i < len(offsets) {
				data[i] = make([]byte, size)
				r.PrepRead(fd, data[i], offsets[i], uint64(i))
			} else {
				r.PrepNop(uint64(i))
			}
		}
		// Submit what was prepared and wait for all of it.
		if _, err := r.SubmitAndWait(r.SQPending()); err != nil {
			done(nil, err)
			return
		}
		for n := r.Reap(cqes); n > 0; n = r.Reap(cqes) {
			for _, c := range cqes[:n] {
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
