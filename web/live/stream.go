// Package live carries a run's events to browsers: each run has a
// [Stream], an append-only log of numbered JSON messages, and any number of
// websocket connections read that log at their own pace. The grader appends
// and never waits; a connection that falls too far behind is dropped and
// can resume from the last message it has. docs/live.md is the protocol.
package live

import (
	"sync"
	"time"
)

// Stream is the message log of one run. It is safe for concurrent use.
type Stream struct {
	id       string
	replayed bool // rebuilt from the store, not the live sequence

	mu    sync.Mutex
	msgs  [][]byte // msgs[i] has seq i+1
	bytes int
	// eventBytes counts the events messages, up to MaxEventBytes;
	// eventsCut says the stream stopped taking them.
	eventBytes int
	eventsCut  bool
	done       bool
	abandoned  bool // done without an end: viewers are to reconnect
	finished   time.Time
	wake       chan struct{} // closed and replaced on every append
}

// NewStream returns an empty stream for run id. replayed marks a stream
// whose numbering need not match one a client may already hold (a run
// rebuilt from its recording, or graded again after a restart), so a
// client resuming into it is reset.
func NewStream(id string, replayed bool) *Stream {
	return &Stream{id: id, replayed: replayed, wake: make(chan struct{})}
}

// ID returns the run's id.
func (s *Stream) ID() string { return s.id }

// Send appends m, numbered next. Sending to a closed stream does nothing.
func (s *Stream) Send(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(m)
}

// Append sends a message of type typ whose other fields are body's (a
// value that encodes as a JSON object, or nil). The server's own messages
// are built by the constructors of messages.go and sent with
// [Stream.Send]; Append is for the others.
func (s *Stream) Append(typ string, body any) { s.Send(newMessage(Type(typ), body)) }

// appendRaw sends a message from typ and the JSON object fields (or nil).
func (s *Stream) appendRaw(typ Type, fields []byte) { s.Send(Message{Type: typ, fields: fields}) }

func (s *Stream) appendLocked(m Message) {
	if s.done {
		return
	}
	b := m.encode(len(s.msgs) + 1)
	s.msgs = append(s.msgs, b)
	s.bytes += len(b)
	close(s.wake)
	s.wake = make(chan struct{})
}

// Close appends the end message; nothing can be appended after it.
func (s *Stream) Close() {
	// One critical section: a concurrent Append or Close must not land
	// between the end and done. The append wakes the readers.
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.appendLocked(EndMsg())
		s.done, s.finished = true, time.Now()
	}
}

// Abandon ends the stream without an end message, for a run that goes on
// elsewhere (a later try of it, on another worker): its viewers are
// disconnected and come back, as after a server restart, to the stream
// the run has then. Nothing can be appended after it.
func (s *Stream) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done, s.abandoned, s.finished = true, true, time.Now()
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// Abandoned reports whether the stream was abandoned.
func (s *Stream) Abandoned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// Since returns the messages after seq (at most max of them), whether the
// stream has ended with its end message, and a channel closed when more
// arrive or it is abandoned.
func (s *Stream) Since(seq, max int) (msgs [][]byte, done bool, wake <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq = min(max0(seq), len(s.msgs))
	end := min(len(s.msgs), seq+max)
	return s.msgs[seq:end:end], s.done && !s.abandoned && end == len(s.msgs), s.wake
}

// Len returns the number of messages so far.
func (s *Stream) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Bytes returns the size of the messages so far.
func (s *Stream) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Done reports whether the stream has ended, and when.
func (s *Stream) Done() (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done, s.finished
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}
