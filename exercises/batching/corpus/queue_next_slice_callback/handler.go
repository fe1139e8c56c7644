// Corpus: pass
// Approach: A state machine on the loop's FIFO: each step callback runs up to four full-SQ batches (prepare Entries() ops, one SubmitAndWait for all, one bulk reap) and l.Queue()s the next step; the final step calls done.
package handler

import (
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

const batchesPerStep = 4

type batcher struct {
	l       *engine.Loop
	r       *engine.Ring
	fd      int
	offsets []int64
	size    int
	total   int
	next    int
	data    [][]byte
	cqes    []engine.CQE
	done    func([][]byte, error)
}

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	b := &batcher{
		l: l, r: r, fd: fd, offsets: offsets, size: size,
		total: len(offsets) + nops,
		data:  make([][]byte, len(offsets)),
		cqes:  make([]engine.CQE, 2*r.Entries()),
		done:  done,
	}
	l.Queue("batch step", b.step)
}

func (b *batcher) step() {
	for k := 0; k < batchesPerStep && b.next < b.total; k++ {
		if err := b.batch(); err != nil {
			b.done(nil, err)
			return
		}
	}
	if b.next == b.total {
		b.done(b.data, nil)
		return
	}
	b.l.Queue("batch step", b.step)
}

func (b *batcher) batch() error {
	end := min(b.next+b.r.Entries(), b.total)
	for i := b.next; i < end; i++ {
		var err error
		if i < len(b.offsets) {
			b.data[i] = make([]byte, b.size)
			err = b.r.PrepRead(b.fd, b.data[i], b.offsets[i], uint64(i))
		} else {
			err = b.r.PrepNop(uint64(i))
		}
		if err != nil {
			return err
		}
	}
	outstanding := end - b.next
	b.next = end
	for outstanding > 0 {
		if _, err := b.r.SubmitAndWait(outstanding); err != nil {
			return err
		}
		n := b.r.Reap(b.cqes)
		for _, c := range b.cqes[:n] {
			if c.Res < 0 {
				return fmt.Errorf("op %d: %w", c.UserData, sys.Errno(-c.Res))
			}
			if c.UserData < uint64(len(b.offsets)) && int(c.Res) != b.size {
				return fmt.Errorf("read %d returned %d bytes", c.UserData, c.Res)
			}
		}
		outstanding -= n
	}
	return nil
}
