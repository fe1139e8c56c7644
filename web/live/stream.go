// Package live carries a run's events to browsers: each run has a
// [Stream], an append-only log of numbered JSON messages, and any number of
// websocket connections read that log at their own pace. The grader appends
// and never waits; a connection that falls too far behind is dropped and
// can resume from the last message it has. docs/live.md is the protocol.
package live

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Stream is the message log of one run. It is safe for concurrent use.
type Stream struct {
	id       string
	replayed bool // rebuilt from the store, not the live sequence

	mu       sync.Mutex
	msgs     [][]byte // msgs[i] has seq i+1
	bytes    int
	done     bool
	finished time.Time
	wake     chan struct{} // closed and replaced on every append
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

// Append adds a message of type typ whose other fields are body's (a
// struct or map that encodes as a JSON object, or nil). Appending to a
// closed stream does nothing.
func (s *Stream) Append(typ string, body any) {
	var fields []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil || len(b) < 2 || b[0] != '{' {
			// Bodies are the server's own types; this is a bug, and the
			// client is told rather than sent a broken message.
			b, _ = json.Marshal(map[string]string{"message": fmt.Sprintf("internal: cannot encode %s message", typ)})
			typ = "error"
		}
		fields = b
	}
	s.appendRaw(typ, fields)
}

// appendRaw adds a message from typ and the JSON object fields (or nil).
func (s *Stream) appendRaw(typ string, fields []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(typ, fields)
}

func (s *Stream) appendLocked(typ string, fields []byte) {
	if s.done {
		return
	}
	seq := len(s.msgs) + 1
	m := make([]byte, 0, len(fields)+40)
	m = append(m, `{"seq":`...)
	m = strconv.AppendInt(m, int64(seq), 10)
	m = append(m, `,"type":`...)
	m = strconv.AppendQuote(m, typ)
	if len(fields) > 2 {
		m = append(m, ',')
		m = append(m, fields[1:]...)
	} else {
		m = append(m, '}')
	}
	s.msgs = append(s.msgs, m)
	s.bytes += len(m)
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
		s.appendLocked("end", nil)
		s.done, s.finished = true, time.Now()
	}
}

// Since returns the messages after seq (at most max of them), whether the
// stream has ended, and a channel closed when more arrive.
func (s *Stream) Since(seq, max int) (msgs [][]byte, done bool, wake <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq = min(max0(seq), len(s.msgs))
	end := min(len(s.msgs), seq+max)
	return s.msgs[seq:end:end], s.done && end == len(s.msgs), s.wake
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
