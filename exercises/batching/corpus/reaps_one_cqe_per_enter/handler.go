// Corpus: fail batched-enters speed-up
// Mistake: Fills the SQ and submits it, but then collects the batch the starter's way, one SubmitAndWait(1) plus a one-slot Reap per CQE, so there is still one io_uring_enter per op.
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
	cqe := make([]engine.CQE, 1)
	total := len(offsets) + nops
	inflight := 0

	// collect reaps the batch one CQE at a time, as the starter did.
	collect := func() error {
		for inflight > 0 {
			if _, err := r.SubmitAndWait(1); err != nil {
				return err
			}
			if r.Reap(cqe) == 0 {
				continue // a signal: wait again
			}
			if res := cqe[0].Res; res < 0 {
				return sys.Errno(-res)
			} else if cqe[0].UserData < uint64(len(offsets)) && int(res) != size {
				return fmt.Errorf("read %d: %d bytes", cqe[0].UserData, res)
			}
			inflight--
		}
		return nil
	}
	prep := func(i int) error {
		if i < len(offsets) {
			data[i] = make([]byte, size)
			return r.PrepRead(fd, data[i], offsets[i], uint64(i))
		}
		return r.PrepNop(uint64(i))
	}
	for i := 0; i < total; i++ {
		err := prep(i)
		if errors.Is(err, engine.ErrSQFull) {
			if err = collect(); err == nil {
				err = prep(i)
			}
		}
		if err != nil {
			done(nil, err)
			return
		}
		inflight++
	}
	if err := collect(); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
