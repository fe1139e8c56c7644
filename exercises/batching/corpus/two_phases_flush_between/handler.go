// Corpus: pass
// Approach: Keeps the starter's two loops, reads then NOPs, but turns each into full-SQ batches and flushes the reads' partial last batch before the NOPs start, costing at most one extra enter.
package handler

import (
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
	prepared := 0

	// run submits every prepared SQE with one enter and reaps all of them.
	run := func(want int32, isRead func(ud uint64) bool) error {
		for prepared > 0 {
			if _, err := r.SubmitAndWait(prepared); err != nil {
				return err
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if c.Res < 0 {
					return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
				}
				if isRead(c.UserData) && c.Res != want {
					return fmt.Errorf("op %d: result %d, want %d", c.UserData, c.Res, want)
				}
			}
			prepared -= n
		}
		return nil
	}
	isRead := func(ud uint64) bool { return ud < uint64(len(offsets)) }

	// Phase 1: the reads.
	for i, off := range offsets {
		if r.SQSpace() == 0 {
			if err := run(int32(size), isRead); err != nil {
				done(nil, err)
				return
			}
		}
		data[i] = make([]byte, size)
		if err := r.PrepRead(fd, data[i], off, uint64(i)); err != nil {
			done(nil, err)
			return
		}
		prepared++
	}
	if err := run(int32(size), isRead); err != nil {
		done(nil, err)
		return
	}

	// Phase 2: the NOPs.
	for i := range nops {
		if r.SQSpace() == 0 {
			if err := run(0, isRead); err != nil {
				done(nil, err)
				return
			}
		}
		if err := r.PrepNop(uint64(len(offsets) + i)); err != nil {
			done(nil, err)
			return
		}
		prepared++
	}
	if err := run(0, isRead); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
