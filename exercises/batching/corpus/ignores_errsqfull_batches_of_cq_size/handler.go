// Corpus: fail correct-data no-op-lost
// Mistake: Sizes each batch as 2*Entries() because "the CQ has 2n" and ignores the error of every Prep call, so the second half of each batch gets ErrSQFull and is silently dropped (those reads never fill their buffers, those NOPs never run).
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
	batch := 2 * r.Entries() // the CQ holds 2n, so 2n ops fit in one round
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, batch)
	for start := 0; start < total; start += batch {
		end := min(start+batch, total)
		for i := start; i < end; i++ {
			if i < len(offsets) {
				data[i] = make([]byte, size)
				r.PrepRead(fd, data[i], offsets[i], uint64(i))
			} else {
				r.PrepNop(uint64(i))
			}
		}
		want := r.SQPending()
		for want > 0 {
			if _, err := r.SubmitAndWait(want); err != nil {
				done(nil, err)
				return
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					done(nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res)))
					return
				}
			}
			want -= n
		}
	}
	done(data, nil)
}
