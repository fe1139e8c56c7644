// Corpus: pass
// Approach: Wraps each slice of eight full-SQ batches in an engine.Future[int] (resolved with the number of ops reaped) and chains the slices with Future.Then; inside a slice every batch is one SubmitAndWait and one bulk reap.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const batchesPerSlice = 8

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())

	// runBatch prepares ops [from, to) and reaps all of them after one enter.
	runBatch := func(from, to int) error {
		for i := from; i < to; i++ {
			var err error
			if i < len(offsets) {
				data[i] = make([]byte, size)
				err = r.PrepRead(fd, data[i], offsets[i], uint64(i))
			} else {
				err = r.PrepNop(uint64(i))
			}
			if err != nil {
				return err
			}
		}
		for reaped := 0; reaped < to-from; {
			if _, err := r.SubmitAndWait(to - from - reaped); err != nil {
				return err
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
				}
			}
			reaped += n
		}
		return nil
	}

	// runSlice runs up to batchesPerSlice batches from op `from` and
	// returns a future of how many ops it finished.
	runSlice := func(from int) *engine.Future[int] {
		f := engine.NewFuture[int](l, fmt.Sprintf("slice from %d", from))
		i := from
		for b := 0; b < batchesPerSlice && i < total; b++ {
			to := min(i+r.Entries(), total)
			if err := runBatch(i, to); err != nil {
				f.Resolve(i-from, err)
				return f
			}
			i = to
		}
		f.Resolve(i-from, nil)
		return f
	}

	from := 0
	var chain func(n int, err error)
	chain = func(n int, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		from += n
		if from == total {
			done(data, nil)
			return
		}
		runSlice(from).Then(chain)
	}
	chain(0, nil)
}
