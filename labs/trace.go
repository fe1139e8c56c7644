package labs

import (
	"context"
	"io"
)

// TraceStream is one sandboxed run's raw trace to store, read from Body to
// its end.
type TraceStream struct {
	Track string // "scenario-backend", unique within a run
	Body  io.Reader
}

// TraceStreamer is a store that writes and reads traces a chunk at a time,
// so that neither storing nor replaying a trace holds it whole in memory.
// Errors wrap [ErrNotFound], [ErrInvalid] or [ErrConflict] where one
// applies. It is safe for concurrent use.
type TraceStreamer interface {
	// FinishRunStreams is [RunStore.FinishRun] with each trace read from
	// its Body a chunk at a time: the run is marked done and every trace
	// stored in one transaction, or nothing is.
	FinishRunStreams(ctx context.Context, id string, out Outcome, traces []TraceStream) error
	// OpenTrace returns one track of a run as a stream that reads the
	// store a chunk at a time, and its size in bytes. ErrNotFound if the
	// run has no such track. A read fails if the run is deleted meanwhile;
	// Close releases what the stream holds.
	OpenTrace(ctx context.Context, id, track string) (io.ReadCloser, int64, error)
}
