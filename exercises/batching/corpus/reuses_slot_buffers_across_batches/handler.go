// Corpus: fail correct-data
// Mistake: Allocates one buffer per SQ slot and reuses it in every batch, storing data[i] = bufs[slot] without copying, so later batches overwrite the bytes of earlier reads and most entries of data alias the last batch's buffers.
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
	n := r.Entries()
	bufs := make([][]byte, n) // one buffer per SQ slot, no allocation per read
	for s := range bufs {
		bufs[s] = make([]byte, size)
	}
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*n)
	for start := 0; start < total; start += n {
		end := min(start+n, total)
		for i := start; i < end; i++ {
			var err error
			if i < len(offsets) {
				slot := i - start
				data[i] = bufs[slot]
				err = r.PrepRead(fd, bufs[slot], offsets[i], uint64(i))
			} else {
				err = r.PrepNop(uint64(i))
			}
			if err != nil {
				done(nil, err)
				return
			}
		}
		for left := end - start; left > 0; {
			if _, err := r.SubmitAndWait(left); err != nil {
				done(nil, err)
				return
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				if c.Res < 0 {
					done(nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res)))
					return
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					done(nil, fmt.Errorf("read %d: %d bytes", c.UserData, c.Res))
					return
				}
			}
			left -= got
		}
	}
	done(data, nil)
}
