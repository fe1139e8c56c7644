// Corpus: fail speed-up
// Mistake: Batches correctly on the ring, but runs as a coroutine that calls co.Yield() after preparing every single op "so the loop stays responsive", so each op pays a full turn of the event loop and the NOPs end up no cheaper than one per enter.
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
	l.Async("batching", func(co *engine.Co) {
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
					if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
						return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
					}
				}
				inflight -= got
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
			inflight++
			co.Yield() // let other callbacks run between ops
		}
		if err := flush(); err != nil {
			done(nil, err)
			return
		}
		done(data, nil)
	})
}
