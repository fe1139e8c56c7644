package labs

import "context"

// LiveMessage is one message of a run's live stream as the process
// grading it sent it: the try (queue attempt) it belongs to, its number
// within that try's stream (from 1), and the encoded message.
type LiveMessage struct {
	Attempt int
	Seq     int
	Data    []byte
}

// LiveRelay carries the live streams of runs from the process that
// grades them to the processes whose viewers watch them. Only a store
// that several processes share has one (labs/postgres); on a store owned
// by one process the streams never leave it.
type LiveRelay interface {
	// AppendLive stores msgs, numbered first, first+1, ..., of try
	// attempt of run's stream, and tells the listeners of ListenLive that
	// run has more. A message already stored is kept as it was.
	AppendLive(ctx context.Context, run string, attempt, first int, msgs [][]byte) error
	// LiveSince returns up to max of run's messages after message seq of
	// try attempt, in order: the rest of that try, then any later try's.
	// Attempt 0 asks for the latest try that has messages, from after
	// seq.
	LiveSince(ctx context.Context, run string, attempt, seq, max int) ([]LiveMessage, error)
	// ListenLive calls notify with the id of each run that has more
	// messages, as AppendLive tells it, until ctx is done or the
	// connection that listens fails. A notification may be lost when it
	// fails, so a follower also looks now and then.
	ListenLive(ctx context.Context, notify func(run string)) error
}
