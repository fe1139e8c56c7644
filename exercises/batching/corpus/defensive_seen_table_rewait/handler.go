// Corpus: pass
// Approach: Full-SQ batches with one SubmitAndWait each, plus defensive bookkeeping: a per-op state table rejects unknown, duplicate or unsubmitted user_data, every read's byte count is checked, and the wait is repeated for exactly the ops a signal left outstanding.
package handler

import (
	"errors"
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

type state uint8

const (
	idle state = iota
	queued
	finished
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	if size < 0 || nops < 0 {
		done(nil, fmt.Errorf("bad arguments: size %d, nops %d", size, nops))
		return
	}
	reads := len(offsets)
	total := reads + nops
	data := make([][]byte, reads)
	st := make([]state, total)
	cqes := make([]engine.CQE, 2*r.Entries())
	inBatch := 0
	finishedCount := 0

	collect := func() error {
		for inBatch > 0 {
			if _, err := r.SubmitAndWait(inBatch); err != nil {
				return fmt.Errorf("io_uring_enter: %w", err)
			}
			got := r.Reap(cqes)
			for _, c := range cqes[:got] {
				ud := c.UserData
				if ud >= uint64(total) {
					return fmt.Errorf("CQE with unknown user_data %d", ud)
				}
				switch st[ud] {
				case idle:
					return fmt.Errorf("CQE for op %d that was never submitted", ud)
				case finished:
					return fmt.Errorf("second CQE for op %d", ud)
				}
				st[ud] = finished
				finishedCount++
				if c.Res < 0 {
					return fmt.Errorf("op %d: %w", ud, sys.Errno(-c.Res))
				}
				if ud < uint64(reads) && int(c.Res) != size {
					return fmt.Errorf("read at offset %d: %d of %d bytes", offsets[ud], c.Res, size)
				}
				if ud >= uint64(reads) && c.Res != 0 {
					return fmt.Errorf("NOP %d: result %d", ud, c.Res)
				}
			}
			inBatch -= got
		}
		return nil
	}

	for i := 0; i < total; i++ {
		var prep func() error
		if i < reads {
			data[i] = make([]byte, size)
			prep = func() error { return r.PrepRead(fd, data[i], offsets[i], uint64(i)) }
		} else {
			prep = func() error { return r.PrepNop(uint64(i)) }
		}
		err := prep()
		if errors.Is(err, engine.ErrSQFull) {
			if err = collect(); err == nil {
				err = prep()
			}
		}
		if err != nil {
			done(nil, err)
			return
		}
		st[i] = queued
		inBatch++
	}
	if err := collect(); err != nil {
		done(nil, err)
		return
	}
	if finishedCount != total {
		done(nil, fmt.Errorf("%d of %d ops finished", finishedCount, total))
		return
	}
	done(data, nil)
}
