// Corpus: fail correct-data no-op-lost speed-up
// Mistake: Keeps per-batch result slots sized Entries() but indexes them with the CQE's global user_data, so the first CQE of the second batch indexes past the end and the handler panics in every call before done.
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
		res := make([]int32, end-start) // result of each op of this batch
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
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				res[c.UserData] = c.Res
			}
			left -= got
		}
		for k, v := range res {
			if v < 0 {
				done(nil, fmt.Errorf("op %d: %w", start+k, sys.Errno(-v)))
				return
			}
			if start+k < len(offsets) && int(v) != size {
				done(nil, fmt.Errorf("read %d: %d bytes", start+k, v))
				return
			}
		}
	}
	done(data, nil)
}
