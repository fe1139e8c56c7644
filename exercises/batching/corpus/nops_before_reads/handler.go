// Corpus: pass
// Approach: Runs the op stream in the other order, all NOPs first and then the reads, in full-SQ batches that straddle the boundary, with user_data = read index and NOPs tagged by a high bit.
package handler

import (
	"errors"
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const nopTag = uint64(1) << 62

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*r.Entries())
	pending := 0 // prepared or submitted, not yet reaped

	check := func(c engine.CQE) error {
		if c.Res < 0 {
			return sys.Errno(-c.Res)
		}
		if c.UserData&nopTag != 0 {
			return nil
		}
		if c.UserData >= uint64(len(data)) {
			return fmt.Errorf("unknown user_data %#x", c.UserData)
		}
		if int(c.Res) != size {
			return fmt.Errorf("read %d: %d bytes, want %d", c.UserData, c.Res, size)
		}
		return nil
	}
	drain := func() error {
		for pending > 0 {
			if _, err := r.SubmitAndWait(pending); err != nil {
				return err
			}
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				if err := check(c); err != nil {
					return err
				}
			}
			pending -= n
		}
		return nil
	}
	// add prepares one op, draining the ring first if it is full.
	add := func(prep func() error) error {
		err := prep()
		if errors.Is(err, engine.ErrSQFull) {
			if err = drain(); err != nil {
				return err
			}
			err = prep()
		}
		if err == nil {
			pending++
		}
		return err
	}

	for j := range nops {
		ud := nopTag | uint64(j)
		if err := add(func() error { return r.PrepNop(ud) }); err != nil {
			done(nil, err)
			return
		}
	}
	for i, off := range offsets {
		data[i] = make([]byte, size)
		if err := add(func() error { return r.PrepRead(fd, data[i], off, uint64(i)) }); err != nil {
			done(nil, err)
			return
		}
	}
	if err := drain(); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
