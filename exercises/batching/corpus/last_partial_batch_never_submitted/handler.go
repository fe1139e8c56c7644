// Corpus: fail no-op-lost batched-enters
// Mistake: Only submits when a Prep call reports ErrSQFull, and forgets to flush after the loop, so the last, partly filled batch (the final NOPs) is prepared but never submitted nor reaped.
package handler

import (
	"errors"
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
	queued := 0

	flush := func() error {
		for queued > 0 {
			if _, err := r.SubmitAndWait(queued); err != nil {
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
			queued -= n
		}
		return nil
	}
	prep := func(i int) error {
		if i < len(offsets) {
			if data[i] == nil {
				data[i] = make([]byte, size)
			}
			return r.PrepRead(fd, data[i], offsets[i], uint64(i))
		}
		return r.PrepNop(uint64(i))
	}

	for i := 0; i < total; i++ {
		err := prep(i)
		if errors.Is(err, engine.ErrSQFull) {
			if err = flush(); err == nil {
				err = prep(i)
			}
		}
		if err != nil {
			done(nil, err)
			return
		}
		queued++
	}
	done(data, nil)
}
