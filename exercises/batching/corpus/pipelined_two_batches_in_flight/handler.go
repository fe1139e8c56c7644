// Corpus: pass
// Approach: Double-buffers on the 2n-entry CQ: every enter submits a full SQ but waits only until at most one SQ's worth of ops is still in flight, so the next batch is prepared while the previous reads finish; a final SubmitAndWait drains the rest.
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
	n := r.Entries()
	total := len(offsets) + nops
	data := make([][]byte, len(offsets))
	cqes := make([]engine.CQE, 2*n)
	inflight := 0 // submitted or prepared, not reaped; never above 2n

	reap := func() error {
		got := r.Reap(cqes)
		for _, c := range cqes[:got] {
			if c.Res < 0 {
				return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
			}
			if c.UserData < uint64(len(offsets)) && int(c.Res) != size {
				return fmt.Errorf("read %d: %d bytes, want %d", c.UserData, c.Res, size)
			}
		}
		inflight -= got
		return nil
	}

	for next := 0; next < total; {
		for next < total && r.SQSpace() > 0 {
			var err error
			if next < len(offsets) {
				data[next] = make([]byte, size)
				err = r.PrepRead(fd, data[next], offsets[next], uint64(next))
			} else {
				err = r.PrepNop(uint64(next))
			}
			if err != nil {
				done(nil, err)
				return
			}
			next++
			inflight++
		}
		// Submit the full SQ; wait only for enough CQEs that at most n
		// ops remain in flight, so the CQ (2n) can take the next batch.
		wait := max(inflight-n, 0)
		if next == total {
			wait = inflight
		}
		if _, err := r.SubmitAndWait(wait); err != nil {
			done(nil, err)
			return
		}
		if err := reap(); err != nil {
			done(nil, err)
			return
		}
		// A signal may have cut the wait short.
		for inflight > n || (next == total && inflight > 0) {
			need := inflight - n
			if next == total {
				need = inflight
			}
			if _, err := r.SubmitAndWait(need); err != nil {
				done(nil, err)
				return
			}
			if err := reap(); err != nil {
				done(nil, err)
				return
			}
		}
	}
	done(data, nil)
}
