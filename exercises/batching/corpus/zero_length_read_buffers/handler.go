// Corpus: fail correct-data
// Mistake: Allocates each read buffer with make([]byte, 0, size), so every READ asks for len(buf) == 0 bytes, completes with 0, and data holds empty slices; the result check compares against len(buf) and never notices.
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
	inflight := 0
	flush := func() error {
		for inflight > 0 {
			if _, err := r.SubmitAndWait(inflight); err != nil {
				return err
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				if c.Res < 0 {
					return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if c.UserData < uint64(len(data)) && int(c.Res) != len(data[c.UserData]) {
					return fmt.Errorf("read %d: short read", c.UserData)
				}
			}
			inflight -= got
		}
		return nil
	}
	prep := func(i int) error {
		if i < len(offsets) {
			return r.PrepRead(fd, data[i], offsets[i], uint64(i))
		}
		return r.PrepNop(uint64(i))
	}
	for i := range data {
		data[i] = make([]byte, 0, size)
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
		inflight++
	}
	if err := flush(); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
