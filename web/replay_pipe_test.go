package web

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
)

// storeRecording stores a finished run of connect with tracks of n events
// each, and returns its id.
func storeRecording(t *testing.T, store labs.Store, tracks []string, n int) string {
	t.Helper()
	ctx := context.Background()
	tr := &trace.Trace{Version: trace.Version, Names: []string{"", "Connect (your handler)", "read"}}
	for i := range n {
		tr.Events = append(tr.Events, trace.Event{Seq: uint64(i + 1), Time: int64(1000 * (i + 1)), Dur: 300, Kind: trace.KindSyscall, Name: 2, Fd: 5, Res: 1})
	}
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := labs.NewRunID(now)
	res := grading.Result{ID: id, Exercise: "connect", Verdict: grading.Ran, Message: "ran"}
	var traces []labs.Trace
	for _, track := range tracks {
		scenario, backend, _ := strings.Cut(track, "-")
		res.Runs = append(res.Runs, grading.RunSummary{Scenario: scenario, Backend: engine.Kind(backend), Track: track,
			Events: n, TraceBytes: int64(buf.Len())})
		traces = append(traces, labs.Trace{Track: track, Data: buf.Bytes()})
	}
	b, err := json.Marshal(&res)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateRun(ctx, &labs.Run{ID: id, Exercise: "connect", Mode: labs.ModeRun, Client: strings.Repeat("ab", 16), Code: "package handler\n", Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := store.StartRun(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishRun(ctx, id, labs.Outcome{Verdict: string(res.Verdict), Result: b, Finished: now}, traces); err != nil {
		t.Fatal(err)
	}
	return id
}

// watchReplay reads run id's replay over a websocket to its end and
// returns the events it carried per track.
func watchReplay(t *testing.T, base, id string) map[string]int {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws/runs/"+id, nil)
	if err != nil {
		t.Errorf("dial: %v", err)
		return nil
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	events := map[string]int{}
	for seq := 1; ; seq++ {
		_, b, err := conn.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Errorf("after %d messages: %v", seq-1, err)
			}
			return events
		}
		var m struct {
			Seq    int               `json:"seq"`
			Type   string            `json:"type"`
			Track  string            `json:"track"`
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Seq != seq {
			t.Errorf("message %d: seq %d, %v", seq, m.Seq, err)
			return events
		}
		if m.Type == "events" {
			events[m.Track] += len(m.Events)
		}
	}
}

// A recording too large to share is piped to each viewer from the store:
// two viewers at once each get every event of every track, and the hub
// holds none of it. A small one is built once and shared through the hub.
func TestLargeReplayIsPiped(t *testing.T) {
	ts, srv, store := testLab(t, nil, nil)
	tracks := []string{"listener-epoll", "listener-uring"}
	const n = 40000 // about 2.6 MB of trace per track: past shareLimit together
	big := storeRecording(t, store, tracks, n)
	var wg sync.WaitGroup
	got := make([]map[string]int, 2)
	for i := range got {
		wg.Go(func() { got[i] = watchReplay(t, ts.URL, big) })
	}
	wg.Wait()
	for i, g := range got {
		for _, track := range tracks {
			if g[track] != n {
				t.Errorf("viewer %d got %d events of %s, want all %d", i+1, g[track], track, n)
			}
		}
	}
	if srv.runs.hub.Lookup(big) != nil {
		t.Error("the hub holds the large replay's stream")
	}

	small := storeRecording(t, store, tracks, 100)
	if g := watchReplay(t, ts.URL, small); g[tracks[0]] != 100 || g[tracks[1]] != 100 {
		t.Errorf("the small replay carried %v, want 100 events per track", g)
	}
	if srv.runs.hub.Lookup(small) == nil {
		t.Error("the small replay is not shared through the hub")
	}
}
