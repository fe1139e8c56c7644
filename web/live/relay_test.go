package live_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/web/live"
)

// TestDecodeRoundTrip sends every kind of message through one stream,
// decodes each and sends it on through a second, as a relayed run's
// follower does: the second stream's messages are the first's, numbered
// from where the second started.
func TestDecodeRoundTrip(t *testing.T) {
	src := live.NewStream("r", false)
	src.Send(live.HelloMsg("r", "connect", "run", true, nil))
	src.Send(live.PhaseMsg("running", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)))
	src.Send(live.QueueMsg(3, false, 4*time.Second))
	src.Send(live.TrackMsg("a-epoll", "a", "epoll"))
	src.Send(live.EventsMsg("a-epoll", 1, []string{"accept", `quote " and \ back`}, []trace.Event{{Kind: trace.KindSyscall, Time: 5, Res: -11}}, 0))
	src.Send(live.FindingsMsg("a-epoll", nil))
	src.Send(live.TrackEndMsg("a-epoll", map[string]any{"verdict": "ok"}))
	src.Send(live.TrackResetMsg("a-epoll", "ran again"))
	src.Send(live.ResultMsg(json.RawMessage(`{"verdict":"passed"}`)))
	src.Send(live.NoticeMsg("hello"))
	src.Send(live.ErrorMsg("bad"))
	src.Close()

	dst := live.NewStream("r", true)
	dst.Send(live.NoticeMsg("first on this stream"))
	msgs, _, _ := src.Since(0, src.Len())
	for i, b := range msgs {
		seq, m, err := live.Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s) = %v", b, err)
		}
		if seq != i+1 {
			t.Errorf("Decode(%s) seq = %d, want %d", b, seq, i+1)
		}
		dst.Send(m)
	}
	got, _, _ := dst.Since(1, dst.Len())
	if len(got) != len(msgs) {
		t.Fatalf("the second stream has %d messages after its first, want %d", len(got), len(msgs))
	}
	for i, b := range got {
		want := msgs[i]
		// Only the seq differs: one more on the second stream.
		wantSeq, gotSeq := fmt.Sprintf(`{"seq":%d,`, i+1), fmt.Sprintf(`{"seq":%d,`, i+2)
		if !bytes.HasPrefix(want, []byte(wantSeq)) || !bytes.Equal(bytes.TrimPrefix(b, []byte(gotSeq)), bytes.TrimPrefix(want, []byte(wantSeq))) {
			t.Errorf("message %d relayed as\n%s\nwant\n%s", i+1, b, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, b := range []string{
		``,
		`{}`,
		`{"seq":,"type":"end"}`,
		`{"seq":1}`,
		`{"seq":1,"type":"End"}`,
		`{"seq":1,"type":""}`,
		`{"seq":1,"type":"events"`,
		`{"seq":1,"type":"events",}`,
		`{"seq":1,"type":"events" ,"x":1}`,
		`{"seq":12345678901,"type":"end"}`,
		`[{"seq":1,"type":"end"}]`,
	} {
		if _, _, err := live.Decode([]byte(b)); err == nil {
			t.Errorf("Decode(%q) = nil error, want one", b)
		}
	}
}

// TestAbandonedStream: an abandoned stream takes nothing more, never
// reads as ended, wakes its readers, and its viewers are told to go
// away (and so reconnect) without an end.
func TestAbandonedStream(t *testing.T) {
	s := live.NewStream("r", false)
	s.Send(live.HelloMsg("r", "connect", "run", true, nil))
	_, done, wake := s.Since(0, 10)
	if done {
		t.Fatal("a new stream reads as ended")
	}
	c := dial(t, serve(t, s, serverConfig{}))
	if m := read(t, c); m.Type != "hello" {
		t.Fatalf("first message %q, want hello", m.Type)
	}
	s.Abandon()
	select {
	case <-wake:
	case <-time.After(patience):
		t.Fatal("Abandon did not wake a reader")
	}
	s.Send(live.NoticeMsg("too late"))
	s.Close()
	if msgs, done, _ := s.Since(0, 10); len(msgs) != 1 || done {
		t.Errorf("abandoned stream: %d messages, ended %v; want 1 and not ended", len(msgs), done)
	}
	if !s.Abandoned() {
		t.Error("Abandoned() = false after Abandon")
	}
	msgs, code := readToClose(t, c)
	if len(msgs) != 0 || code != websocket.CloseGoingAway {
		t.Errorf("viewer got %d more messages and close code %d, want none and %d", len(msgs), code, websocket.CloseGoingAway)
	}
}

// TestHubRebuildsAbandoned: Get builds anew a run whose stream was
// abandoned, or dropped.
func TestHubRebuildsAbandoned(t *testing.T) {
	h := live.NewHub(time.Minute, 1<<20)
	first := live.NewStream("r", false)
	h.Add(first)
	build := func() (*live.Stream, error) { return live.NewStream("r", true), nil }
	if got, _ := h.Get("r", build); got != first {
		t.Fatal("Get built a stream the hub holds")
	}
	first.Abandon()
	second, err := h.Get("r", build)
	if err != nil || second == first {
		t.Fatalf("Get after Abandon = %p, %v; want a new stream", second, err)
	}
	h.Drop(first) // no longer the hub's: changes nothing
	if got, _ := h.Get("r", build); got != second {
		t.Error("Drop of a stream the hub no longer holds dropped its successor")
	}
	h.Drop(second)
	if got, _ := h.Get("r", build); got == second {
		t.Error("Get after Drop returned the dropped stream")
	}
}
