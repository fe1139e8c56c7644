package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chromeTrace is the decoded shape of WriteChrome's output.
type chromeTrace struct {
	TraceEvents     []map[string]any `json:"traceEvents"`
	DisplayTimeUnit string           `json:"displayTimeUnit"`
}

func writeChromeJSON(t *testing.T, tr *Trace) chromeTrace {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteChrome(&buf, tr); err != nil {
		t.Fatalf("WriteChrome: %v", err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("WriteChrome wrote invalid JSON:\n%s", buf.Bytes())
	}
	var ct chromeTrace
	if err := json.Unmarshal(buf.Bytes(), &ct); err != nil {
		t.Fatalf("json.Unmarshal(WriteChrome output): %v", err)
	}
	return ct
}

func chromeSample() *Trace {
	b := newTraceBuilder()
	// Loop 0: a handler submits a READ that completes and wakes "on-read",
	// which submits a READ that is cancelled and never completes.
	b.begin(0, 0, 0, "start").
		submit(0, us(10), 1, "READ", 5, 0).
		syscall(0, us(20), us(5), "io_uring_enter", 4, 1).
		end(0, us(30), us(30), "start").
		add(Event{Kind: KindWakeup, Time: us(100), Res: 1, Fd: -1}).
		complete(0, us(110), 1, "READ", 5, 12).
		add(Event{Kind: KindHandler, Phase: PhaseBegin, Time: us(120), Arg0: us(110), Op: 1, Fd: -1}, "on-read").
		add(Event{Kind: KindCounter, Time: us(121), Res: 3, Fd: -1}, "runq").
		submit(0, us(130), 2, "READ", 6, 0).
		add(Event{Kind: KindMark, Time: us(140), Fd: -1}, "hello \"world\"").
		lint(0, us(145), LintDeadlock, "blocking wait").
		add(Event{Kind: KindTimer, Phase: PhaseCreate, Time: us(146), Op: 9, Arg0: us(1000), Fd: -1}, "t").
		add(Event{Kind: KindFuture, Phase: PhaseCreate, Time: us(147), Op: 8, Fd: -1}, "f").
		end(0, us(150), us(30), "on-read").
		add(Event{Kind: KindCancel, Time: us(160), Op: 2, Res: 0, Fd: -1}).
		complete(0, us(170), 3, "NOP", -1, -125) // no submit seen
	// Loop 1 reuses op id 1; its handler names no op, so it is matched first
	// in, first out.
	b.submit(1, us(50), 1, "SEND", 9, 0).
		complete(1, us(60), 1, "SEND", 9, 100).
		handler(1, us(60), us(70), us(80), "sent")
	return b.trace()
}

func TestWriteChrome(t *testing.T) {
	ct := writeChromeJSON(t, chromeSample())
	if ct.DisplayTimeUnit != "ns" {
		t.Errorf(`displayTimeUnit = %q, want "ns"`, ct.DisplayTimeUnit)
	}
	// 4 metadata per loop; loop 0: 3 handler/syscall X, 2 submit X, 2 b,
	// 2 e (one at the end), 1 n (cancel), 1 C, 6 instants; loop 1: X+b, e, X.
	if got, want := len(ct.TraceEvents), 8+17+4; got != want {
		t.Errorf("len(traceEvents) = %d, want %d", got, want)
	}

	count := map[string]int{}
	type asyncKey struct {
		pid     float64
		cat, id string
	}
	open := map[asyncKey]int{}
	flowOut := map[float64]bool{}
	flowIn := map[float64]string{}
	handlers := map[string]map[string]any{}
	for i, ev := range ct.TraceEvents {
		ph, _ := ev["ph"].(string)
		count[ph]++
		if _, ok := ev["pid"].(float64); !ok {
			t.Errorf("event %d has no numeric pid: %v", i, ev)
		}
		if _, ok := ev["ts"].(float64); !ok {
			t.Errorf("event %d has no numeric ts: %v", i, ev)
		}
		switch ph {
		case "X":
			if d, ok := ev["dur"].(float64); !ok || d < 0 {
				t.Errorf("X event %d dur = %v, want >= 0", i, ev["dur"])
			}
			if ev["tid"] == float64(chromeTidHandlers) && ev["cat"] == nil {
				handlers[ev["name"].(string)] = ev
			}
		case "b", "e", "n":
			id2, _ := ev["id2"].(map[string]any)
			k := asyncKey{ev["pid"].(float64), fmt.Sprint(ev["cat"]), fmt.Sprint(id2["local"])}
			switch ph {
			case "b":
				open[k]++
			case "e":
				if open[k] == 0 {
					t.Errorf("e event %d %v has no open b", i, k)
				}
				open[k]--
			case "n":
				if open[k] == 0 {
					t.Errorf("n event %d %v is outside its op's slice", i, k)
				}
			}
		case "i":
			if ev["s"] != "t" {
				t.Errorf("instant %d scope = %v, want t", i, ev["s"])
			}
		}
		if id, ok := ev["bind_id"].(float64); ok {
			in, _ := ev["flow_in"].(bool)
			out, _ := ev["flow_out"].(bool)
			if in && !flowOut[id] {
				t.Errorf("event %d: flow_in for bind_id %v with no flow_out before it", i, id)
			}
			if out {
				flowOut[id] = true
			}
			if in && !out {
				flowIn[id] = fmt.Sprint(ev["name"])
			}
		}
	}
	for k, n := range open {
		if n != 0 {
			t.Errorf("async slice %v left open %d times", k, n)
		}
	}
	for id := range flowOut {
		if _, ok := flowIn[id]; !ok {
			t.Errorf("bind_id %v flows out but never in", id)
		}
	}
	wantCount := map[string]int{"M": 8, "X": 7, "b": 3, "e": 3, "n": 1, "C": 1, "i": 6}
	if diff := cmp.Diff(wantCount, count); diff != "" {
		t.Errorf("events by phase (-want +got):\n%s", diff)
	}
	wantFlows := map[string]bool{"on-read": true, "sent": true}
	gotFlows := map[string]bool{}
	for _, name := range flowIn {
		gotFlows[name] = true
	}
	if diff := cmp.Diff(wantFlows, gotFlows); diff != "" {
		t.Errorf("handlers with an incoming flow (-want +got):\n%s", diff)
	}
	if h := handlers["start"]; h == nil || h["dur"] != 30.0 || h["ts"] != 0.0 {
		t.Errorf("handler start = %v, want ts 0 dur 30", h)
	}
}

func TestWriteChromeFlowMatching(t *testing.T) {
	// Two completions in one batch, then two handlers that name no op: the
	// first handler gets the first completion. A third handler gets nothing.
	tr := newTraceBuilder().
		submit(0, 0, 1, "READ", 5, 0).
		submit(0, 1, 2, "READ", 6, 0).
		complete(0, 10, 1, "READ", 5, 1).
		complete(0, 11, 2, "READ", 6, 1).
		handler(0, 11, 20, 30, "first").
		handler(0, 11, 30, 40, "second").
		handler(0, 41, 41, 42, "third").trace()
	ct := writeChromeJSON(t, tr)
	in := map[string]float64{}
	out := map[float64]string{}
	for _, ev := range ct.TraceEvents {
		id, ok := ev["bind_id"].(float64)
		if !ok {
			continue
		}
		if ev["flow_in"] == true && ev["flow_out"] != true {
			in[ev["name"].(string)] = id
		}
		if ev["ph"] == "X" && ev["flow_out"] == true {
			args := ev["args"].(map[string]any)
			out[id] = args["op"].(string)
		}
	}
	want := map[string]string{"first": "0x1", "second": "0x2"}
	got := map[string]string{}
	for name, id := range in {
		got[name] = out[id]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handler <- op flows (-want +got):\n%s", diff)
	}
}

func TestWriteChromeUnfinished(t *testing.T) {
	tr := newTraceBuilder().
		begin(0, us(10), us(10), "stuck").
		lint(0, us(500), LintDeadlock, "deadlock").trace()
	ct := writeChromeJSON(t, tr)
	for _, ev := range ct.TraceEvents {
		if ev["ph"] == "X" && ev["name"] == "stuck" {
			if ev["dur"] != 490.0 {
				t.Errorf("unfinished handler dur = %v, want 490", ev["dur"])
			}
			return
		}
	}
	t.Errorf("no X event for the unfinished handler in %v", ct.TraceEvents)
}

func TestWriteChromeEmpty(t *testing.T) {
	ct := writeChromeJSON(t, &Trace{Version: Version, Names: []string{""}})
	if len(ct.TraceEvents) != 0 {
		t.Errorf("WriteChrome(empty) = %d events, want 0", len(ct.TraceEvents))
	}
}

func TestWriteChromeSyscallBegins(t *testing.T) {
	tr := newTraceBuilder().
		sysBegin(0, us(10), "read", 3).
		syscall(0, us(10), us(5), "read", 3, 1).
		sysBegin(0, us(20), "connect", 7).
		add(Event{Loop: 1, Kind: KindMark, Time: us(1520), Fd: -1}, "stalled").trace()
	ct := writeChromeJSON(t, tr)
	slices := map[string][]map[string]any{}
	for _, ev := range ct.TraceEvents {
		if ev["ph"] == "X" && ev["tid"] == float64(chromeTidSyscalls) {
			slices[ev["name"].(string)] = append(slices[ev["name"].(string)], ev)
		}
	}
	if r := slices["read"]; len(r) != 1 || r[0]["dur"] != 5.0 {
		t.Errorf("read slices = %v, want one of 5µs (the begin is drawn by its record)", r)
	}
	c := slices["connect"]
	if len(c) != 1 || c[0]["ts"] != 20.0 || c[0]["dur"] != 1500.0 {
		t.Fatalf("connect slices = %v, want one from 20µs to the end of the trace (1500µs)", c)
	}
	if args := c[0]["args"].(map[string]any); args["unfinished"] != true || args["fd"] != 7.0 {
		t.Errorf("unfinished connect args = %v, want unfinished and fd 7", args)
	}
}

func TestWriteChromeReady(t *testing.T) {
	tr := newTraceBuilder().
		syscall(0, 0, us(10), "epoll_wait", 5, 2).
		ready(0, us(10), 7, 0x1|0x4, 5).
		ready(0, us(10), 9, 0x1|0x2000, 5).
		ready(0, us(30), 7, 0x4, 5).trace()
	ct := writeChromeJSON(t, tr)
	threads := map[float64]string{}
	var ready []map[string]any
	for _, ev := range ct.TraceEvents {
		switch {
		case ev["ph"] == "M" && ev["name"] == "thread_name" && ev["pid"] == 1.0:
			threads[ev["tid"].(float64)] = ev["args"].(map[string]any)["name"].(string)
		case ev["ph"] == "i" && ev["args"].(map[string]any)["epfd"] != nil:
			ready = append(ready, ev)
		}
	}
	if threads[chromeTidFd+7] != "fd 7" || threads[chromeTidFd+9] != "fd 9" {
		t.Errorf("threads = %v, want fd 7 and fd 9 tracks", threads)
	}
	want := []struct {
		name string
		tid  float64
	}{{"EPOLLIN|EPOLLOUT", chromeTidFd + 7}, {"EPOLLIN|EPOLLRDHUP", chromeTidFd + 9}, {"EPOLLOUT", chromeTidFd + 7}}
	if len(ready) != len(want) {
		t.Fatalf("ready instants = %v, want %d", ready, len(want))
	}
	for i, w := range want {
		if ready[i]["name"] != w.name || ready[i]["tid"] != w.tid || ready[i]["s"] != "t" {
			t.Errorf("ready instant %d = %v, want %q on tid %v", i, ready[i], w.name, w.tid)
		}
	}
}

// TestChromeDocTracks: two tracks of one run in one document keep apart:
// their loops are processes of their own, named after the track, and a
// flow arrow of one never joins the other's.
func TestChromeDocTracks(t *testing.T) {
	var buf bytes.Buffer
	d := NewChromeDoc(&buf)
	d.Track("listener on epoll", chromeSample())
	d.Track("listener on io_uring", chromeSample())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var ct chromeTrace
	if err := json.Unmarshal(buf.Bytes(), &ct); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	one := writeChromeJSON(t, chromeSample())
	if len(ct.TraceEvents) != 2*len(one.TraceEvents) {
		t.Errorf("two tracks wrote %d events, want twice one track's %d", len(ct.TraceEvents), len(one.TraceEvents))
	}
	names := map[float64]string{}
	flows := map[float64]map[float64]bool{} // bind id -> the pids it appears in
	for _, e := range ct.TraceEvents {
		pid, _ := e["pid"].(float64)
		if e["name"] == "process_name" {
			names[pid] = e["args"].(map[string]any)["name"].(string)
		}
		if id, ok := e["bind_id"].(float64); ok {
			if flows[id] == nil {
				flows[id] = map[float64]bool{}
			}
			flows[id][pid] = true
		}
	}
	want := map[float64]string{1: "listener on epoll: loop 0", 2: "listener on epoll: loop 1",
		1<<16 + 1: "listener on io_uring: loop 0", 1<<16 + 2: "listener on io_uring: loop 1"}
	for pid, name := range want {
		if names[pid] != name {
			t.Errorf("process %v is named %q, want %q (all: %v)", pid, names[pid], name, names)
		}
	}
	if len(flows) == 0 {
		t.Fatal("no flow arrows")
	}
	for id, pids := range flows {
		if len(pids) != 1 {
			t.Errorf("flow %v spans processes %v", id, pids)
		}
	}
}
