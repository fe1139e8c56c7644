// Corpus: fail correct-data
// Mistake: Sorts a copy of offsets so the reads go through the file in order, then fills data in that sorted order, so data[i] no longer matches offsets[i].
package handler

import (
	"errors"
	"fmt"
	"slices"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	// Sequential offsets read faster: walk the file front to back.
	sorted := slices.Clone(offsets)
	slices.Sort(sorted)

	data := make([][]byte, len(sorted))
	cqes := make([]engine.CQE, 2*r.Entries())
	total := len(sorted) + nops
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
				if c.UserData < uint64(len(sorted)) && int(c.Res) != size {
					return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
				}
			}
			inflight -= got
		}
		return nil
	}
	prep := func(i int) error {
		if i < len(sorted) {
			return r.PrepRead(fd, data[i], sorted[i], uint64(i))
		}
		return r.PrepNop(uint64(i))
	}
	for i := range data {
		data[i] = make([]byte, size)
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
