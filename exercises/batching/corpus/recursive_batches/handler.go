// Corpus: pass
// Approach: Recursion over the op range: doBatch(start) prepares the ops [start, start+Entries()), submits and waits for all of them with one enter, reaps them in bulk and recurses on the rest.
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
	cqes := make([]engine.CQE, 2*r.Entries())
	total := len(offsets) + nops
	if err := doBatch(r, fd, offsets, size, total, 0, data, cqes); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}

func doBatch(r *engine.Ring, fd int, offsets []int64, size, total, start int, data [][]byte, cqes []engine.CQE) error {
	if start >= total {
		return nil
	}
	end := min(start+r.Entries(), total)
	for i := start; i < end; i++ {
		if i < len(offsets) {
			data[i] = make([]byte, size)
			if err := r.PrepRead(fd, data[i], offsets[i], uint64(i)); err != nil {
				return err
			}
			continue
		}
		if err := r.PrepNop(uint64(i)); err != nil {
			return err
		}
	}
	if err := await(r, end-start, offsets, size, cqes); err != nil {
		return err
	}
	return doBatch(r, fd, offsets, size, total, end, data, cqes)
}

// await submits what is prepared and reaps until want CQEs came back.
func await(r *engine.Ring, want int, offsets []int64, size int, cqes []engine.CQE) error {
	if want == 0 {
		return nil
	}
	if _, err := r.SubmitAndWait(want); err != nil {
		return err
	}
	got := r.Reap(cqes)
	for _, c := range cqes[:got] {
		if c.Res < 0 {
			return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
		}
		if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
			return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
		}
	}
	return await(r, want-got, offsets, size, cqes)
}
