// Corpus: pass
// Approach: A coroutine Awaits one future per slice of up to eight full-SQ batches; a queued callback does the slice (fill the SQ, one SubmitAndWait per batch, one bulk reap) and resolves the future with the slice's CQEs, which the coroutine checks.
package handler

import (
	"errors"
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const batchesPerSlice = 8

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	data := make([][]byte, len(offsets))
	for i := range data {
		data[i] = make([]byte, size)
	}
	total := len(offsets) + nops

	// runSlice runs full-SQ batches from op `from` on, at most
	// batchesPerSlice of them, and resolves with all their CQEs.
	runSlice := func(from int) *engine.Future[[]engine.CQE] {
		f := engine.NewFuture[[]engine.CQE](l, "slice")
		l.Queue("run slice", func() {
			var all []engine.CQE
			i := from
			for b := 0; b < batchesPerSlice && i < total; b++ {
				start := i
				for ; i < total; i++ {
					var err error
					if i < len(offsets) {
						err = r.PrepRead(fd, data[i], offsets[i], uint64(i))
					} else {
						err = r.PrepNop(uint64(i))
					}
					if errors.Is(err, engine.ErrSQFull) {
						break
					}
					if err != nil {
						f.Resolve(nil, err)
						return
					}
				}
				want := len(all) + i - start
				for len(all) < want {
					if _, err := r.SubmitAndWait(want - len(all)); err != nil {
						f.Resolve(nil, err)
						return
					}
					got := make([]engine.CQE, want-len(all))
					all = append(all, got[:r.Reap(got)]...)
				}
			}
			f.Resolve(all, nil)
		})
		return f
	}

	l.Async("batching", func(co *engine.Co) {
		for next := 0; next < total; {
			cqes, err := engine.Await(co, runSlice(next))
			if err != nil {
				done(nil, err)
				return
			}
			for _, c := range cqes {
				if c.Res < 0 {
					done(nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res)))
					return
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					done(nil, fmt.Errorf("read %d: %d of %d bytes", c.UserData, c.Res, size))
					return
				}
			}
			next += len(cqes)
		}
		done(data, nil)
	})
}
