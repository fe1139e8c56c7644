// Corpus: fail batched-enters
// Mistake: Fills the SQ correctly but hands each batch over with r.Submit() and then waits with a separate r.SubmitAndWait(k), so every batch costs two io_uring_enter calls instead of one.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())
	for next := 0; next < total; {
		batch := 0
		for next < total && r.SQSpace() > 0 {
			var err error
			if next < len(offsets) {
				data[next] = make([]byte, size)
				err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
			} else {
				err = r.PrepNop(uint64(next))
			}
			if err != nil {
				done(nil, err)
				return
			}
			next++
			batch++
		}
		// Submit the batch, then wait for it.
		if _, err := r.Submit(); err != nil {
			done(nil, err)
			return
		}
		for batch > 0 {
			if _, err := r.SubmitAndWait(batch); err != nil {
				done(nil, err)
				return
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					done(nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res)))
					return
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					done(nil, fmt.Errorf("read %d: %d bytes", c.UserData, c.Res))
					return
				}
			}
			batch -= n
		}
	}
	done(data, nil)
}
