// Corpus: fail batched-enters
// Mistake: Submits every Entries()/2 ops "to leave headroom in the SQ", so each enter carries a half-full SQ and the call makes about twice ceil(ops/entries) enters.
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
	batch := max(r.Entries()/2, 1) // keep half the SQ free, just in case
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())
	for start := 0; start < total; start += batch {
		end := min(start+batch, total)
		for i := start; i < end; i++ {
			var err error
			if i < len(offsets) {
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
		for left := end - start; left > 0; {
			if _, err := r.SubmitAndWait(left); err != nil {
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
			left -= n
		}
	}
	done(data, nil)
}
