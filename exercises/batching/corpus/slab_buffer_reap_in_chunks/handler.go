// Corpus: pass
// Approach: Reads into one contiguous slab (data[i] is a capped sub-slice of it), fills the SQ with ops, makes one SubmitAndWait per batch and drains the CQ with several Reap calls into a small 8-entry slice, which costs no system call.
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
	slab := make([]byte, len(offsets)*size)
	data := make([][]byte, len(offsets))
	for i := range data {
		data[i] = slab[i*size : (i+1)*size : (i+1)*size]
	}
	var small [8]engine.CQE
	total := len(offsets) + nops
	outstanding := 0

	settle := func() error {
		for outstanding > 0 {
			if _, err := r.SubmitAndWait(outstanding); err != nil {
				return err
			}
			for r.CQReady() > 0 {
				got := r.Reap(small[:])
				if got == 0 {
					break
				}
				for _, c := range small[:got] {
					if c.Res < 0 {
						return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
					}
					if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
						return fmt.Errorf("read %d: %d bytes", c.UserData, c.Res)
					}
				}
				outstanding -= got
			}
		}
		return nil
	}

	for i := 0; i < total; i++ {
		if r.SQSpace() == 0 {
			if err := settle(); err != nil {
				done(nil, err)
				return
			}
		}
		var err error
		if i < len(offsets) {
			err = r.PrepRead(fd, data[i], offsets[i], uint64(i))
		} else {
			err = r.PrepNop(uint64(i))
		}
		if err != nil {
			done(nil, err)
			return
		}
		outstanding++
	}
	if err := settle(); err != nil {
		done(nil, err)
		return
	}
	done(data, nil)
}
