// Corpus: fail correct-data no-op-lost
// Mistake: Interleaves reads and NOPs in each batch but gives NOP j the user_data j, the same as read j, so the first NOP CQE is taken for read j's completion, fails the "read returned size bytes" check, and the handler aborts with done(nil, err) before most ops are submitted.
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
	data := make([][]byte, len(offsets))
	type op struct {
		read bool
		i    int
	}
	var ops []op
	for k := 0; k < max(len(offsets), nops); k++ {
		if k < len(offsets) {
			ops = append(ops, op{true, k})
		}
		if k < nops {
			ops = append(ops, op{false, k})
		}
	}
	n := r.Entries()
	cqes := make([]engine.CQE, 2*n)
	for start := 0; start < len(ops); start += n {
		batch := ops[start:min(start+n, len(ops))]
		for _, o := range batch {
			var err error
			if o.read {
				data[o.i] = make([]byte, size)
				err = r.PrepRead(fd, data[o.i], offsets[o.i], uint64(o.i))
			} else {
				err = r.PrepNop(uint64(o.i))
			}
			if err != nil {
				done(nil, err)
				return
			}
		}
		for left := len(batch); left > 0; {
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
					done(nil, fmt.Errorf("read %d: got %d bytes, want %d", c.UserData, c.Res, size))
					return
				}
			}
			left -= got
		}
	}
	done(data, nil)
}
