// Corpus: fail no-op-lost speed-up
// Mistake: Batches the reads correctly but never runs the NOPs (taking them for the harness's own timing ops), so no NOP is ever prepared and there is no NOP work to time.
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
	inflight := 0
	flush := func() error {
		for inflight > 0 {
			if _, err := r.SubmitAndWait(inflight); err != nil {
				return err
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				if c.Res < 0 {
					return fmt.Errorf("read %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if int(c.Res) != size {
					return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
				}
			}
			inflight -= got
		}
		return nil
	}
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
		inflight++
	}
	if err := flush(); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
