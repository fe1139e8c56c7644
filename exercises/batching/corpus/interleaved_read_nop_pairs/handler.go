// Corpus: pass
// Approach: Interleaves the two kinds in one op stream (read, NOP, read, NOP, ... then the surplus of either), packs the user_data as kind<<32|index, and batches a full SQ per SubmitAndWait.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const (
	kindRead = 1
	kindNop  = 2
)

func ud(kind, i int) uint64 { return uint64(kind)<<32 | uint64(i) }

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	data := make([][]byte, len(offsets))
	for i := range data {
		data[i] = make([]byte, size)
	}
	type op struct{ kind, i int }
	var ops []op
	for k := 0; k < max(len(offsets), nops); k++ {
		if k < len(offsets) {
			ops = append(ops, op{kindRead, k})
		}
		if k < nops {
			ops = append(ops, op{kindNop, k})
		}
	}

	entries := r.Entries()
	cqes := make([]engine.CQE, 2*entries)
	for start := 0; start < len(ops); start += entries {
		batch := ops[start:min(start+entries, len(ops))]
		for _, o := range batch {
			var err error
			if o.kind == kindRead {
				err = r.PrepRead(fd, data[o.i], offsets[o.i], ud(kindRead, o.i))
			} else {
				err = r.PrepNop(ud(kindNop, o.i))
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
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				kind, i := int(c.UserData>>32), int(uint32(c.UserData))
				switch {
				case c.Res < 0:
					done(nil, fmt.Errorf("op kind %d #%d: %w", kind, i, sys.Errno(-c.Res)))
					return
				case kind == kindRead && int(c.Res) != size:
					done(nil, fmt.Errorf("read #%d: %d bytes, want %d", i, c.Res, size))
					return
				case kind != kindRead && kind != kindNop:
					done(nil, fmt.Errorf("stray CQE %#x", c.UserData))
					return
				}
			}
			left -= n
		}
	}
	done(data, nil)
}
