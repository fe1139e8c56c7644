package live_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/web/live"
)

// types decodes the type of each message of s.
func types(t *testing.T, s *live.Stream) []string {
	t.Helper()
	msgs, _, _ := s.Since(0, s.Len())
	out := make([]string, len(msgs))
	for i, b := range msgs {
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %d, %q, is not JSON: %v", i+1, b, err)
		}
		if m.Seq != i+1 {
			t.Fatalf("message %d has seq %d", i+1, m.Seq)
		}
		out[i] = m.Type
	}
	return out
}

func TestStreamAppend(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		body any
		want string
	}{
		{"nil body", "end", nil, `{"seq":1,"type":"end"}`},
		{"empty object", "phase", map[string]int{}, `{"seq":1,"type":"phase"}`},
		{"struct", "phase", struct {
			Name string `json:"name"`
		}{"running"}, `{"seq":1,"type":"phase","name":"running"}`},
		{"quoted type", `a"b`, nil, `{"seq":1,"type":"a\"b"}`},
		{"not an object", "phase", []int{1}, `{"seq":1,"type":"error","message":"internal: cannot encode phase message"}`},
		{"cannot encode", "phase", map[string]any{"f": func() {}}, `{"seq":1,"type":"error","message":"internal: cannot encode phase message"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := live.NewStream("r", false)
			s.Append(tt.typ, tt.body)
			msgs, done, _ := s.Since(0, 10)
			if len(msgs) != 1 || string(msgs[0]) != tt.want || done {
				t.Errorf("Append(%q, %v): Since(0, 10) = %q, %v; want [%s], false", tt.typ, tt.body, msgs, done, tt.want)
			}
		})
	}
}

func TestStreamSince(t *testing.T) {
	s := live.NewStream("r", false)
	for range 5 {
		s.Append("events", nil)
	}
	_, _, wake := s.Since(0, 1)
	tests := []struct {
		seq, max int
		want     int // messages returned; they start at seq+1
		wantDone bool
	}{
		{0, 10, 5, false},
		{0, 2, 2, false},
		{3, 10, 2, false},
		{5, 10, 0, false},
		{9, 10, 0, false},
		{-1, 10, 5, false},
	}
	for _, tt := range tests {
		msgs, done, _ := s.Since(tt.seq, tt.max)
		if len(msgs) != tt.want || done != tt.wantDone {
			t.Errorf("Since(%d, %d) = %d messages, %v; want %d, %v", tt.seq, tt.max, len(msgs), done, tt.want, tt.wantDone)
		}
	}
	select {
	case <-wake:
		t.Fatal("the wake channel is closed with no append since")
	default:
	}
	s.Close()
	select {
	case <-wake:
	default:
		t.Fatal("Close did not close the wake channel")
	}
	for _, tt := range []struct {
		seq, max int
		wantDone bool
	}{{0, 10, true}, {0, 5, false}, {5, 10, true}, {6, 10, true}} {
		if _, done, _ := s.Since(tt.seq, tt.max); done != tt.wantDone {
			t.Errorf("after Close, Since(%d, %d) done = %v, want %v", tt.seq, tt.max, done, tt.wantDone)
		}
	}
	if done, at := s.Done(); !done || at.IsZero() {
		t.Errorf("Done() = %v, %v; want true and a time", done, at)
	}
	s.Append("events", nil)
	if got := s.Len(); got != 6 {
		t.Errorf("Append after Close: Len() = %d, want 6", got)
	}
}

// TestStreamCloseConcurrent is a regression test: Close appended the end
// and marked the stream done under two separate locks, so a concurrent
// Append or Close could slip a message, or a second end, after the end.
func TestStreamCloseConcurrent(t *testing.T) {
	const goroutines = 8
	for range 2000 {
		s := live.NewStream("r", false)
		s.Append("hello", nil)
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				s.Append("events", nil)
				s.Close()
				s.Append("events", nil)
			})
		}
		wg.Wait()
		got := types(t, s)
		for i, typ := range got {
			if (typ == "end") != (i == len(got)-1) {
				t.Fatalf("after concurrent Close, the messages are %q; want one end, last", got)
			}
		}
	}
}

// A stream keeps at most MaxEventBytes of events, then says once that the
// timeline stops there, and takes no more events; other messages go on.
func TestStreamCapsEvents(t *testing.T) {
	s := live.NewStream("run", false)
	evs := make([]trace.Event, live.MaxBatch)
	for i := range evs {
		evs[i] = trace.Event{Seq: uint64(i), Time: int64(i) * 1000, Dur: 500, Kind: trace.KindSyscall, Fd: 7, Res: 64, Name: 1}
	}
	b := trace.Batch{Names: []string{"read"}, FirstName: 1, Events: evs}
	for range 4 * live.MaxEventBytes / (len(evs) * 30) {
		s.AppendBatch("t-epoll", b)
		b.Names = nil
	}
	s.Send(live.TrackEndMsg("t-epoll", map[string]int{"events": 1}))
	s.Close()
	got := types(t, s)
	notices := 0
	for _, typ := range got {
		if typ == "notice" {
			notices++
		}
	}
	if notices != 1 || got[len(got)-2] != "track_end" {
		t.Errorf("%d notices, last messages %v; want one notice and the track's end after it", notices, got[max(0, len(got)-3):])
	}
	if n := s.Bytes(); n > live.MaxEventBytes+1<<20 {
		t.Errorf("the stream holds %d bytes, more than the %d of events it may keep", n, live.MaxEventBytes)
	}
	if n := s.Bytes(); n < live.MaxEventBytes-1<<20 {
		t.Errorf("the stream holds only %d bytes: it stopped well before its cap", n)
	}
}
