// Corpus: fail batched-enters speed-up
// Mistake: Batches the reads properly but leaves the starter's NOP loop alone ("a NOP does nothing, no point batching it"), so every NOP still costs its own io_uring_enter.
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
	pending := 0
	flush := func() error {
		for pending > 0 {
			if _, err := r.SubmitAndWait(pending); err != nil {
				return err
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					return sys.Errno(-c.Res)
				}
				if int(c.Res) != size {
					return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
				}
			}
			pending -= n
		}
		return nil
	}

	// The reads, batched.
	for i, off := range offsets {
		data[i] = make([]byte, size)
		err := r.PrepRead(fd, data[i], off, uint64(i))
		if errors.Is(err, engine.ErrSQFull) {
			if err = flush(); err == nil {
				err = r.PrepRead(fd, data[i], off, uint64(i))
			}
		}
		if err != nil {
			done(nil, err)
			return
		}
		pending++
	}
	if err := flush(); err != nil {
		done(nil, err)
		return
	}

	// The NOPs, as in the starter.
	one := make([]engine.CQE, 1)
	for i := range nops {
		if err := r.PrepNop(uint64(len(offsets) + i)); err != nil {
			done(nil, err)
			return
		}
		for n := 0; n == 0; n = r.Reap(one) {
			if _, err := r.SubmitAndWait(1); err != nil {
				done(nil, err)
				return
			}
		}
		if one[0].Res < 0 {
			done(nil, sys.Errno(-one[0].Res))
			return
		}
	}
	done(data, nil)
}
