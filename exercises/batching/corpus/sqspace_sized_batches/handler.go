// Corpus: pass
// Approach: Never triggers ErrSQFull: each batch is sized by r.SQSpace() before preparing, then one SubmitAndWait(batch) and a bulk reap, waiting again only for whatever a signal left outstanding.
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
	reads := len(offsets)
	total := reads + nops
	data := make([][]byte, reads)
	cqes := make([]engine.CQE, 2*r.Entries())

	for next := 0; next < total; {
		batch := min(r.SQSpace(), total-next)
		if batch == 0 {
			done(nil, fmt.Errorf("no SQ space with nothing in flight"))
			return
		}
		for k := 0; k < batch; k++ {
			i := next + k
			var err error
			if i < reads {
				data[i] = make([]byte, size)
				err = r.PrepRead(fd, data[i], offsets[i], uint64(i))
			} else {
				err = r.PrepNop(uint64(i))
			}
			if err != nil {
				done(nil, err)
				return
			}
		}
		next += batch

		for left := batch; left > 0; {
			if _, err := r.SubmitAndWait(left); err != nil {
				done(nil, err)
				return
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				if c.Res < 0 {
					done(nil, sys.Errno(-c.Res))
					return
				}
				if c.UserData < uint64(reads) && int(c.Res) != size {
					done(nil, fmt.Errorf("short read at offset %d: %d of %d bytes", offsets[c.UserData], c.Res, size))
					return
				}
			}
			left -= got
		}
	}
	done(data, nil)
}
