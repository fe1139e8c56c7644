// Corpus: fail batched-enters speed-up
// Mistake: Calls r.Submit() right after every Prep "so the kernel sees the SQE", then waits for the batch with SubmitAndWait, so there is one io_uring_enter per op plus one per batch.
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
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*n)
	for start := 0; start < total; start += n {
		end := min(start+n, total)
		for i := start; i < end; i++ {
			var err error
			if i < len(offsets) {
				data[i] = make([]byte, size)
				err = r.PrepRead(fd, data[i], offsets[i], uint64(i))
			} else {
				err = r.PrepNop(uint64(i))
			}
			if err == nil {
				_, err = r.Submit()
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
