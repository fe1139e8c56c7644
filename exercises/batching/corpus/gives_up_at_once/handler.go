// Corpus: fail correct-data no-op-lost batched-enters speed-up
// Mistake: Makes no attempt at all: it calls done with a "not implemented" error straight away, without preparing, submitting or reaping a single op.
package handler

import (
	"errors"

	"github.com/asynclab/asynclab/engine"
)

// Batch reads size bytes from fd at each of offsets and runs nops NOPs, all
// through the raw ring r, then calls done once with the bytes of each read,
// in the order of offsets.
func Batch(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error)) {
	// TODO: batch the ops.
	done(nil, errors.New("batching: not implemented yet"))
}
