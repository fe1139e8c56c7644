// Corpus: pass
// Approach: Runs the batching loop as an l.Async coroutine: fills the SQ, one SubmitAndWait per full SQ, bulk reap, and calls co.Yield only once it has held the loop for more than a millisecond (checked with l.Now()), so long calls stay cooperative without a loop turn per batch.
package handler

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const slice = time.Millisecond

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	l.Async("batching", func(co *engine.Co) {
		data, err := runAll(co, r, fd, offsets, size, nops)
		if err != nil {
			done(nil, err)
			return
		}
		done(data, nil)
	})
}

func runAll(co *engine.Co, r *engine.Ring, fd int, offsets []int64, size int, nops int) ([][]byte, error) {
	l := co.Loop()
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())
	sliceStart := l.Now()
	next := 0
	for next < total {
		batch := 0
		for next < total && r.SQSpace() > 0 {
			var err error
			if next < len(offsets) {
				data[next] = make([]byte, size)
				err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
			} else {
				err = r.PrepNop(uint64(next))
			}
			if err != nil {
				return nil, err
			}
			next++
			batch++
		}
		for batch > 0 {
			if _, err := r.SubmitAndWait(batch); err != nil {
				return nil, err
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					return nil, fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
					return nil, fmt.Errorf("read %d: short read of %d bytes", c.UserData, c.Res)
				}
			}
			batch -= n
		}
		if next < total && l.Now()-sliceStart > slice {
			co.Yield()
			sliceStart = l.Now()
		}
	}
	return data, nil
}
