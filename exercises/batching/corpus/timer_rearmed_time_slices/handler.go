// Corpus: pass
// Approach: A timer callback runs full-SQ batches (stop at ErrSQFull, one SubmitAndWait for the batch, bulk reap) for up to 2 ms of loop time, then re-arms itself with a zero-delay l.AfterFunc to continue, so no single callback hogs the loop.
package handler

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const budget = 2 * time.Millisecond

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	for i := range data {
		data[i] = make([]byte, size)
	}
	cqes := make([]engine.CQE, 2*r.Entries())
	next := 0

	oneBatch := func() error {
		count := 0
		for next < total {
			var err error
			if next < len(offsets) {
				err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
			} else {
				err = r.PrepNop(uint64(next))
			}
			if errors.Is(err, engine.ErrSQFull) {
				break
			}
			if err != nil {
				return err
			}
			next++
			count++
		}
		for count > 0 {
			if _, err := r.SubmitAndWait(count); err != nil {
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
			count -= got
		}
		return nil
	}

	var tick func()
	tick = func() {
		start := l.Now()
		for next < total && l.Now()-start < budget {
			if err := oneBatch(); err != nil {
				done(nil, err)
				return
			}
		}
		if next == total {
			done(data, nil)
			return
		}
		l.AfterFunc("next slice", 0, tick)
	}
	tick()
}
