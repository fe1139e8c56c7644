// Corpus: pass
// Approach: Returns at once and starts the work from a goroutine with l.Post, so the batching itself (full-SQ batches, one SubmitAndWait each, bulk reap) still runs on the loop thread that owns the ring.
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
	work := func() {
		data, err := run(r, fd, offsets, size, nops)
		if err != nil {
			done(nil, err)
			return
		}
		done(data, nil)
	}
	go func() {
		if !l.Post("batching", work) {
			return // the loop has stopped: nobody is left to tell
		}
	}()
}

func run(r *engine.Ring, fd int, offsets []int64, size int, nops int) ([][]byte, error) {
	n := r.Entries()
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*n)
	for base := 0; base < total; base += n {
		end := min(base+n, total)
		for i := base; i < end; i++ {
			if i < len(offsets) {
				data[i] = make([]byte, size)
				if err := r.PrepRead(fd, data[i], offsets[i], uint64(i)); err != nil {
					return nil, err
				}
			} else if err := r.PrepNop(uint64(i)); err != nil {
				return nil, err
			}
		}
		for left := end - base; left > 0; {
			if _, err := r.SubmitAndWait(left); err != nil {
				return nil, err
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				if c.Res < 0 {
					return nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					return nil, fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
				}
			}
			left -= got
		}
	}
	return data, nil
}
