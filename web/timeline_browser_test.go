package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asynclab/asynclab/engine/trace"
)

// The timeline's tests load synthetic traces shaped like the engine's into
// web/testdata/timeline.html, which runs /static/timeline.js, and drive it
// in a real Chromium.

const us = 1000 // ns

// synthTrace is what the test page's loadTrace feeds the timeline: the
// schema and, per track, the name table, the events and the findings, in
// the websocket's formats (docs/live.md).
type synthTrace struct {
	Schema synthSchema   `json:"schema"`
	Tracks []*synthTrack `json:"tracks"`
}

type synthSchema struct {
	Kinds  []string `json:"kinds"`
	Phases []string `json:"phases"`
	Lints  []string `json:"lints"`
}

type synthFinding struct {
	Code    string `json:"code"`
	Seq     int64  `json:"seq"`
	Time    int64  `json:"time"`
	Loop    uint16 `json:"loop"`
	Op      string `json:"op"`
	Subject string `json:"subject"`
	Blocker string `json:"blocker"`
	Wait    int64  `json:"wait"`
	Message string `json:"message"`
}

type synthTrack struct {
	Track    string         `json:"track"`
	Label    string         `json:"label"`
	Names    []string       `json:"names"`
	Events   [][12]any      `json:"events"`
	Findings []synthFinding `json:"findings"`

	ids  map[string]int
	seqs map[uint16]int64
	evs  []synthEvent
}

// synthEvent is one event as the engine records it; Op is an int64, or a
// string for ids beyond 2^53, as the websocket sends them.
type synthEvent struct {
	Seq   int64
	Time  int64
	Dur   int64
	Kind  trace.Kind
	Phase trace.Phase
	Loop  uint16
	Op    any
	Fd    int32
	Res   int64
	Arg0  int64
	Arg1  int64
	Name  string
}

func newSynthTrace() *synthTrace {
	var s synthSchema
	for k := trace.Kind(0); k == 0 || k.Valid(); k++ {
		s.Kinds = append(s.Kinds, k.String())
	}
	for p := trace.Phase(0); p.Valid(); p++ {
		s.Phases = append(s.Phases, p.String())
	}
	for c := trace.LintCode(0); c == 0 || c.Valid(); c++ {
		s.Lints = append(s.Lints, c.String())
	}
	return &synthTrace{Schema: s}
}

func (st *synthTrace) track(id, label string) *synthTrack {
	tr := &synthTrack{Track: id, Label: label, Names: []string{""}, Findings: []synthFinding{},
		ids: map[string]int{"": 0}, seqs: map[uint16]int64{}}
	st.Tracks = append(st.Tracks, tr)
	return tr
}

func (tr *synthTrack) name(s string) int {
	id, ok := tr.ids[s]
	if !ok {
		id = len(tr.Names)
		tr.ids[s] = id
		tr.Names = append(tr.Names, s)
	}
	return id
}

// add records e with the loop's next sequence number and returns it.
func (tr *synthTrack) add(e synthEvent) int64 {
	tr.seqs[e.Loop]++
	e.Seq = tr.seqs[e.Loop]
	if e.Op == nil {
		e.Op = int64(0)
	}
	tr.Events = append(tr.Events, [12]any{e.Seq, e.Time, e.Dur, int(e.Kind), int(e.Phase), e.Loop, e.Op,
		e.Fd, e.Res, e.Arg0, e.Arg1, tr.name(e.Name)})
	tr.evs = append(tr.evs, e)
	return e.Seq
}

func (tr *synthTrack) syscall(loop uint16, name string, at, dur int64, fd int32, res int64) int64 {
	return tr.add(synthEvent{Kind: trace.KindSyscall, Loop: loop, Time: at, Dur: dur, Fd: fd, Res: res, Name: name})
}

func (tr *synthTrack) wakeup(loop uint16, name string, at int64, fd int32, n int64) {
	tr.add(synthEvent{Kind: trace.KindWakeup, Loop: loop, Time: at, Fd: fd, Res: n, Name: name})
}

func (tr *synthTrack) submit(loop uint16, op any, opcode string, at int64, fd int32) {
	tr.add(synthEvent{Kind: trace.KindSubmit, Loop: loop, Time: at, Op: op, Fd: fd, Name: opcode})
}

func (tr *synthTrack) complete(loop uint16, op any, name string, at int64, fd int32, res, flags int64) {
	tr.add(synthEvent{Kind: trace.KindComplete, Loop: loop, Time: at, Op: op, Fd: fd, Res: res, Arg0: flags, Name: name})
}

func (tr *synthTrack) begin(loop uint16, name string, at, ready int64, op any) int64 {
	return tr.add(synthEvent{Kind: trace.KindHandler, Phase: trace.PhaseBegin, Loop: loop, Time: at, Arg0: ready, Op: op, Fd: -1, Name: name})
}

func (tr *synthTrack) end(loop uint16, name string, at, began int64, op any) {
	tr.add(synthEvent{Kind: trace.KindHandler, Phase: trace.PhaseEnd, Loop: loop, Time: at, Dur: at - began, Op: op, Fd: -1, Name: name})
}

func (tr *synthTrack) counter(loop uint16, name string, at, v int64) {
	tr.add(synthEvent{Kind: trace.KindCounter, Loop: loop, Time: at, Res: v, Fd: -1, Name: name})
}

func (tr *synthTrack) instant(loop uint16, kind trace.Kind, phase trace.Phase, name string, at int64, op any, arg0 int64) {
	tr.add(synthEvent{Kind: kind, Phase: phase, Loop: loop, Time: at, Op: op, Arg0: arg0, Fd: -1, Name: name})
}

// smallTrace is one exercise's two runs, shaped like real ones. On epoll: a
// connect refused, an accept, a read that would block, and a slow handler
// that keeps a ready one waiting 80ms (a live lint and two findings). On
// io_uring: the same refused connect, a multishot accept, a worker thread,
// a cancelled receive and a timeout.
func smallTrace() *synthTrace {
	st := newSynthTrace()
	const (
		futureID = "9223372036854775810" // 1<<63 | 2: beyond 2^53, sent as a string
		timerID  = "9223372036854775809"
	)

	e := st.track("refused-epoll", "refused · epoll")
	e.counter(0, "runq", 0, 1)
	e.begin(0, "main", 20*us, 2*us, nil)
	e.syscall(0, "socket", 30*us, 8*us, 5, 5)
	e.syscall(0, "connect", 45*us, 22*us, 5, -115)
	e.submit(0, int64(1), "CONNECT", 70*us, 5)
	e.counter(0, "inflight", 70*us, 1)
	e.submit(0, int64(2), "ACCEPT", 90*us, 6)
	e.counter(0, "inflight", 90*us, 2)
	e.instant(0, trace.KindMark, trace.PhaseInstant, "listening", 120*us, nil, 0)
	e.instant(0, trace.KindTimer, trace.PhaseCreate, "deadline", 130*us, timerID, 30130*us)
	e.end(0, "main", 160*us, 20*us, nil)
	e.counter(0, "runq", 161*us, 0)
	e.syscall(0, "epoll_wait", 170*us, 2400*us, 3, 1)
	e.wakeup(0, "epoll_wait", 2570*us, 3, 1)
	e.complete(0, int64(0), "writable", 2572*us, 5, 0, 4)
	e.complete(0, int64(1), "CONNECT", 2575*us, 5, -111, 0)
	e.counter(0, "inflight", 2575*us, 1)
	e.counter(0, "runq", 2575*us, 1)
	e.begin(0, "on-connect", 2590*us, 2575*us, int64(1))
	e.syscall(0, "getsockopt", 2600*us, 6*us, 5, 0)
	e.syscall(0, "close", 2650*us, 10*us, 5, 0)
	e.end(0, "on-connect", 2700*us, 2590*us, int64(1))
	e.counter(0, "runq", 2701*us, 0)
	e.syscall(0, "epoll_wait", 2710*us, 5000*us, 3, 1)
	e.wakeup(0, "epoll_wait", 7710*us, 3, 1)
	e.complete(0, int64(0), "readable", 7711*us, 6, 0, 1)
	e.complete(0, int64(2), "ACCEPT", 7712*us, 6, 7, 0)
	e.counter(0, "inflight", 7712*us, 0)
	e.begin(0, "on-accept", 7720*us, 7712*us, int64(2))
	e.submit(0, int64(3), "READ", 7760*us, 7)
	e.submit(0, int64(5), "ACCEPT", 7790*us, 6) // never completes
	e.counter(0, "inflight", 7790*us, 2)
	e.end(0, "on-accept", 7800*us, 7720*us, int64(2))
	e.syscall(0, "epoll_wait", 7810*us, 3000*us, 3, 1)
	e.wakeup(0, "epoll_wait", 10810*us, 3, 1)
	e.complete(0, int64(3), "READ", 10812*us, 7, 64, 0)
	e.counter(0, "inflight", 10812*us, 1)
	e.begin(0, "on-read", 10820*us, 10812*us, int64(3))
	e.syscall(0, "read", 10850*us, 4*us, 7, -11)
	e.instant(0, trace.KindFuture, trace.PhaseCreate, "reply", 10870*us, futureID, 0)
	e.submit(0, int64(4), "WRITE", 10880*us, 7)
	e.counter(0, "runq", 10890*us, 2)
	e.end(0, "on-read", 10900*us, 10820*us, int64(3))
	slow := e.begin(0, "slow-request", 10905*us, 10890*us, nil)
	e.instant(0, trace.KindMark, trace.PhaseInstant, "hashing 64 MiB", 11000*us, nil, 0)
	e.syscall(0, "nanosleep", 11500*us, 79000*us, -1, 0)
	e.add(synthEvent{Kind: trace.KindLint, Time: 90500 * us, Arg0: int64(trace.LintBlockingCall), Fd: -1, Name: "nanosleep"})
	e.end(0, "slow-request", 90905*us, 10905*us, nil)
	e.complete(0, int64(4), "WRITE", 90907*us, 7, 64, 0)
	e.counter(0, "inflight", 90907*us, 1)
	wait := e.begin(0, "req-10ms", 90910*us, 10890*us, nil)
	e.syscall(0, "write", 91000*us, 30*us, 7, 12)
	e.instant(0, trace.KindFuture, trace.PhaseResolve, "reply", 100800*us, futureID, 0)
	e.end(0, "req-10ms", 100910*us, 90910*us, nil)
	e.counter(0, "runq", 100911*us, 0)
	e.instant(0, trace.KindTimer, trace.PhaseFire, "deadline", 100920*us, timerID, 30130*us)
	e.syscall(0, "epoll_wait", 100950*us, 20000*us, 3, 0)
	e.Findings = append(e.Findings,
		synthFinding{Code: "long-handler", Seq: slow, Time: 10905 * us, Subject: "slow-request", Wait: 80000 * us, Op: "0",
			Message: `"slow-request" ran for 80ms on the loop thread; nothing else could run meanwhile.`},
		synthFinding{Code: "head-of-line", Seq: wait, Time: 10890 * us, Subject: "req-10ms", Blocker: "slow-request", Wait: 80020 * us, Op: "0",
			Message: `"req-10ms" was ready at 10.890ms but waited 80.02ms behind "slow-request" (80ms).`},
	)

	u := st.track("refused-uring", "refused · io_uring")
	u.begin(0, "main", 15*us, 1*us, nil)
	u.submit(0, int64(0x100000001), "CONNECT", 60*us, 5)
	u.submit(0, int64(0x200000001), "ACCEPT", 80*us, 6)
	u.submit(0, int64(0x300000001), "TIMEOUT", 100*us, -1)
	u.counter(0, "sq_pending", 101*us, 3)
	u.end(0, "main", 140*us, 15*us, nil)
	u.syscall(0, "io_uring_enter", 150*us, 3*us, 4, 3)
	u.counter(0, "sq_pending", 153*us, 0)
	u.counter(0, "inflight", 153*us, 3)
	u.syscall(0, "io_uring_enter", 160*us, 2300*us, 4, 1)
	u.wakeup(0, "io_uring_enter", 2460*us, 4, 1)
	u.counter(0, "cq_ready", 2460*us, 1)
	u.complete(0, int64(0x100000001), "CONNECT", 2461*us, 5, -111, 0)
	u.counter(0, "inflight", 2461*us, 2)
	u.begin(0, "on-connect", 2470*us, 2461*us, int64(0x100000001))
	u.counter(0, "cq_ready", 2470*us, 0)
	u.submit(0, int64(0x400000001), "CLOSE", 2500*us, 5)
	u.end(0, "on-connect", 2560*us, 2470*us, int64(0x100000001))
	u.syscall(0, "io_uring_enter", 2570*us, 4000*us, 4, 2)
	u.wakeup(0, "io_uring_enter", 6570*us, 4, 2)
	u.counter(0, "cq_ready", 6570*us, 2)
	u.complete(0, int64(0x400000001), "CLOSE", 6571*us, 5, 0, 0)
	u.complete(0, int64(0x200000001), "ACCEPT", 6572*us, 6, 7, 2) // multishot: more follow
	u.begin(0, "on-accept", 6580*us, 6572*us, int64(0x200000001))
	u.counter(0, "cq_ready", 6580*us, 0)
	u.submit(0, int64(0x500000001), "RECV", 6650*us, 7)
	u.end(0, "on-accept", 6700*us, 6580*us, int64(0x200000001))
	u.syscall(0, "io_uring_enter", 6710*us, 3000*us, 4, 1)
	u.begin(1, "hash-block", 6800*us, 6790*us, nil)
	u.instant(1, trace.KindMark, trace.PhaseInstant, "block 1 of 4", 6900*us, nil, 0)
	u.end(1, "hash-block", 9800*us, 6800*us, nil)
	u.wakeup(0, "io_uring_enter", 9710*us, 4, 1)
	u.complete(0, int64(0x500000001), "RECV", 9711*us, 7, 64, 0)
	u.begin(0, "on-read", 9720*us, 9711*us, int64(0x500000001))
	u.submit(0, int64(0x600000001), "SEND", 9800*us, 7)
	u.submit(0, int64(0x700000001), "RECV", 9850*us, 7)
	u.counter(0, "inflight", 9850*us, 4)
	u.end(0, "on-read", 9900*us, 9720*us, int64(0x500000001))
	u.syscall(0, "io_uring_enter", 9910*us, 24*us, 4, 1)
	u.complete(0, int64(0x600000001), "SEND", 9935*us, 7, 64, 0)
	u.begin(0, "on-sent", 9940*us, 9935*us, int64(0x600000001))
	u.end(0, "on-sent", 9960*us, 9940*us, int64(0x600000001))
	u.syscall(0, "io_uring_enter", 9970*us, 2000*us, 4, 0)
	u.begin(0, "shutdown", 11990*us, 11975*us, nil)
	u.submit(0, int64(0x800000001), "ASYNC_CANCEL", 12010*us, -1)
	u.end(0, "shutdown", 12030*us, 11990*us, nil)
	u.syscall(0, "io_uring_enter", 12040*us, 25*us, 4, 2)
	u.add(synthEvent{Kind: trace.KindCancel, Time: 12050 * us, Op: int64(0x700000001), Res: 0, Fd: -1, Name: "cancel"})
	u.complete(0, int64(0x700000001), "RECV", 12060*us, 7, -125, 0)
	u.complete(0, int64(0x800000001), "ASYNC_CANCEL", 12062*us, -1, 0, 0)
	u.counter(0, "inflight", 12062*us, 2)
	u.syscall(0, "io_uring_enter", 12070*us, 18000*us, 4, 1)
	u.wakeup(0, "io_uring_enter", 30090*us, 4, 1)
	u.complete(0, int64(0x300000001), "TIMEOUT", 30100*us, -1, -62, 0)
	u.counter(0, "inflight", 30100*us, 1)
	u.begin(0, "on-timeout", 30110*us, 30100*us, int64(0x300000001))
	u.end(0, "on-timeout", 30150*us, 30110*us, int64(0x300000001))
	return st
}

// bigTrace is a busy io_uring server: about n events over two loops,
// sixteen connections, counters on every turn.
func bigTrace(n int) *synthTrace {
	st := newSynthTrace()
	tr := st.track("load-uring", "load · io_uring")
	rng := rand.New(rand.NewPCG(1, 2))
	handlers := []string{"on-read", "on-write", "on-accept", "parse-request"}
	t := int64(10 * us)
	var nextOp int64 = 1
	type pending struct {
		op int64
		fd int32
	}
	var inflight []pending
	for fd := int32(8); fd < 24; fd++ {
		tr.submit(0, nextOp, "RECV", t, fd)
		inflight = append(inflight, pending{nextOp, fd})
		nextOp++
		t += 200
	}
	worker := int64(0)
	for len(tr.Events) < n {
		enter := t
		wait := int64(500 + rng.IntN(4000))
		tr.syscall(0, "io_uring_enter", enter, wait, 4, 1)
		t += wait
		tr.wakeup(0, "io_uring_enter", t, 4, 1)
		tr.counter(0, "cq_ready", t, int64(1+rng.IntN(3)))
		i := rng.IntN(len(inflight))
		p := inflight[i]
		res := int64(64)
		if rng.IntN(20) == 0 {
			res = -104
		}
		tr.complete(0, p.op, "RECV", t+100, p.fd, res, 0)
		tr.counter(0, "inflight", t+100, int64(len(inflight)-1))
		ready := t + 100
		t += 300 + int64(rng.IntN(400))
		name := handlers[rng.IntN(len(handlers))]
		began := t
		tr.begin(0, name, t, ready, p.op)
		t += int64(500 + rng.IntN(3000))
		if rng.IntN(4) == 0 {
			tr.syscall(0, "read", t, 800, p.fd, -11)
			t += 1000
		}
		tr.submit(0, nextOp, "RECV", t, p.fd)
		inflight[i] = pending{nextOp, p.fd}
		nextOp++
		t += 200
		tr.end(0, name, t, began, p.op)
		tr.counter(0, "runq", t, int64(rng.IntN(4)))
		t += 300
		if t-worker > 200*us {
			worker = t
			tr.begin(1, "compress", t, t-2*us, nil)
			tr.end(1, "compress", t+150*us, t, nil)
		}
	}
	return st
}

// timelineServer serves the static files, the test page and the traces.
func timelineServer(t *testing.T, traces map[string]*synthTrace) *httptest.Server {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("testdata", "timeline.html"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", staticHandler())
	mux.HandleFunc("GET /timeline.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	for name, tr := range traces {
		body, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("GET /trace/"+name+".json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// openTimeline starts a browser on the test page with the named trace loaded.
func openTimeline(t *testing.T, name string, tr *synthTrace) context.Context {
	t.Helper()
	srv := timelineServer(t, map[string]*synthTrace{name: tr})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/timeline.html")); err != nil {
		t.Fatalf("open the test page: %v", err)
	}
	type loaded struct {
		Events int     `json:"events"`
		AddMs  float64 `json:"addMs"`
	}
	got := evalJS[loaded](t, ctx, fmt.Sprintf(`loadTrace("/trace/%s.json", 1000)`, name))
	want := 0
	for _, tk := range tr.Tracks {
		want += len(tk.Events)
	}
	if got.Events != want {
		t.Fatalf("eventCount() after loading = %d, want %d", got.Events, want)
	}
	t.Logf("loaded %d events in batches of 1000: addEvents took %.1fms in all", got.Events, got.AddMs)
	return ctx
}

type viewState struct {
	Start    float64        `json:"start"`
	End      float64        `json:"end"`
	Cursor   float64        `json:"cursor"`
	Playing  bool           `json:"playing"`
	Speed    float64        `json:"speed"`
	TraceEnd float64        `json:"traceEnd"`
	Selected *selectedEvent `json:"selected"`
}

type selectedEvent struct {
	Track   string  `json:"track"`
	Loop    int     `json:"loop"`
	Seq     int64   `json:"seq"`
	Kind    string  `json:"kind"`
	Name    string  `json:"name"`
	Time    float64 `json:"time"`
	Message string  `json:"message"`
}

func viewOf(t *testing.T, ctx context.Context) viewState {
	t.Helper()
	return evalJS[viewState](t, ctx, `tl.view()`)
}

func TestTimelineLanes(t *testing.T) {
	tr := smallTrace()
	ctx := openTimeline(t, "small", tr)

	type lane struct {
		Track string `json:"track"`
		Type  string `json:"type"`
		Label string `json:"label"`
	}
	lanes := evalJS[[]lane](t, ctx, `tl.lanes()`)
	types := map[string]map[string]int{}
	content := 0
	for _, l := range lanes {
		if types[l.Track] == nil {
			types[l.Track] = map[string]int{}
		}
		types[l.Track][l.Type]++
		if l.Type != "header" {
			content++
		}
	}
	for _, tk := range tr.Tracks {
		for _, typ := range []string{"header", "loop", "kernel", "fd", "counter"} {
			if types[tk.Track][typ] == 0 {
				t.Errorf("track %s has no %s lane; lanes: %v", tk.Track, typ, types[tk.Track])
			}
		}
	}
	if got := types["refused-uring"]["loop"]; got != 2 {
		t.Errorf("refused-uring has %d loop lanes, want 2 (the loop thread and thread 1)", got)
	}
	if got, want := types["refused-epoll"]["fd"], 4; got != want {
		t.Errorf("refused-epoll has %d fd lanes, want %d (3, 5, 6 and 7)", got, want)
	}
	drawn := evalJS[map[string]string](t, ctx, `({...document.getElementById("tl").dataset})`)
	if drawn["lanes"] != fmt.Sprint(content) {
		t.Errorf("canvas data-lanes = %q, want %d (every lane fits)", drawn["lanes"], content)
	}
	if drawn["events"] != fmt.Sprint(len(tr.Tracks[0].Events)+len(tr.Tracks[1].Events)) {
		t.Errorf("canvas data-events = %q", drawn["events"])
	}

	type ink struct {
		Ink    int `json:"ink"`
		Total  int `json:"total"`
		Colors int `json:"colors"`
	}
	px := evalJS[ink](t, ctx, `inkPixels()`)
	t.Logf("canvas: %d of %d pixels inked, %d distinct colours", px.Ink, px.Total, px.Colors)
	if px.Ink < px.Total/50 {
		t.Errorf("the canvas has %d non-background pixels of %d, want at least 2%%", px.Ink, px.Total)
	}
	if px.Colors < 8 {
		t.Errorf("the canvas has %d distinct saturated colours, want at least 8", px.Colors)
	}

	// The screenshots: the refused connect selected, with its chain from
	// submit to completion to the handler it woke; the first 12ms of both
	// runs; both runs whole.
	var connect synthEvent
	for _, e := range tr.Tracks[0].evs {
		if e.Kind == trace.KindComplete && e.Name == "CONNECT" {
			connect = e
		}
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.jumpTo("refused-epoll", 0, %d), tl.seek(tl.view().traceEnd), tl.setView(-60e3, 2.9e6), frames(2)`, connect.Seq))
	screenshot(t, ctx, "timeline-small")
	evalJS[any](t, ctx, `tl.setView(-200e3, 12.4e6), frames(2)`)
	screenshot(t, ctx, "timeline-small-12ms")
	evalJS[any](t, ctx, `tl.fit(), frames(2)`)
	screenshot(t, ctx, "timeline-small-fit")
}

// stepOrder lists the events the timeline steps through, in its order:
// every event but counter samples, by time, then track, then arrival.
func stepOrder(st *synthTrace) []selectedEvent {
	type step struct {
		e     synthEvent
		track int
		i     int
	}
	var all []step
	for ti, tk := range st.Tracks {
		for i, e := range tk.evs {
			if e.Kind != trace.KindCounter {
				all = append(all, step{e, ti, i})
			}
		}
	}
	slices.SortFunc(all, func(a, b step) int {
		return cmp.Or(cmp.Compare(a.e.Time, b.e.Time), cmp.Compare(a.track, b.track), cmp.Compare(a.i, b.i))
	})
	out := make([]selectedEvent, len(all))
	for i, s := range all {
		out[i] = selectedEvent{Track: st.Tracks[s.track].Track, Loop: int(s.e.Loop), Seq: s.e.Seq, Time: float64(s.e.Time),
			Kind: s.e.Kind.String(), Name: s.e.Name}
	}
	return out
}

func TestTimelinePlayback(t *testing.T) {
	tr := smallTrace()
	ctx := openTimeline(t, "small", tr)

	// Play, then pause: the cursor has moved on from the start.
	evalJS[any](t, ctx, `tl.setSpeed(1e7), tl.seek(0), tl.play(), frames(1)`)
	if v := viewOf(t, ctx); !v.Playing {
		t.Fatalf("view().playing = false after play()")
	}
	moved := evalJS[bool](t, ctx, `new Promise((resolve) => {
		const poll = () => tl.view().cursor > 0 ? resolve(true) : requestAnimationFrame(poll);
		poll();
	})`)
	evalJS[any](t, ctx, `tl.pause()`)
	v := viewOf(t, ctx)
	if !moved || v.Cursor <= 0 || v.Playing {
		t.Errorf("after play and pause: cursor %v, playing %v; want a cursor past 0, not playing", v.Cursor, v.Playing)
	}

	// Stepping across visits the events in time order across both tracks.
	order := stepOrder(tr)
	evalJS[any](t, ctx, `tl.seek(0)`)
	for i := range 30 {
		evalJS[bool](t, ctx, `tl.stepForward(true)`)
		v := viewOf(t, ctx)
		want := order[i]
		if v.Cursor != want.Time || v.Selected == nil || v.Selected.Track != want.Track || v.Selected.Loop != want.Loop || v.Selected.Seq != want.Seq {
			t.Fatalf("stepForward #%d: cursor %v, selected %+v; want cursor %v on %s loop %d seq %d (%s %s)",
				i+1, v.Cursor, v.Selected, want.Time, want.Track, want.Loop, want.Seq, want.Kind, want.Name)
		}
	}
	for i := 28; i >= 25; i-- {
		evalJS[bool](t, ctx, `tl.stepBack(true)`)
		v := viewOf(t, ctx)
		want := order[i]
		if v.Cursor != want.Time || v.Selected == nil || v.Selected.Seq != want.Seq || v.Selected.Track != want.Track {
			t.Fatalf("stepBack to #%d: cursor %v, selected %+v; want cursor %v, %s seq %d", i+1, v.Cursor, v.Selected, want.Time, want.Track, want.Seq)
		}
	}
	// The last event, then nothing further.
	last := order[len(order)-1]
	evalJS[any](t, ctx, fmt.Sprintf(`tl.seek(%v)`, last.Time))
	if ok := evalJS[bool](t, ctx, `tl.stepForward(true)`); !ok {
		t.Errorf("stepForward(true) from just before the end = false, want true (the last event, %s %s)", last.Kind, last.Name)
	}
	if ok := evalJS[bool](t, ctx, `tl.stepForward(true)`); ok {
		t.Errorf("stepForward(true) at the last event = true, want false")
	}

	// Plain stepping stays in the selected event's track: from the first
	// event of refused-epoll, the next 20 steps visit its events in order,
	// though refused-uring's interleave with them in time.
	var epoll []selectedEvent
	for _, e := range order {
		if e.Track == "refused-epoll" {
			epoll = append(epoll, e)
		}
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.jumpTo("refused-epoll", %d, %d)`, epoll[0].Loop, epoll[0].Seq))
	for i := 1; i <= 20; i++ {
		evalJS[bool](t, ctx, `tl.stepForward()`)
		v := viewOf(t, ctx)
		if want := epoll[i]; v.Selected == nil || v.Selected.Track != want.Track || v.Selected.Seq != want.Seq {
			t.Fatalf("stepForward #%d within refused-epoll: selected %+v; want seq %d (%s %s)", i, v.Selected, want.Seq, want.Kind, want.Name)
		}
	}
	evalJS[bool](t, ctx, `tl.stepBack()`)
	if v, want := viewOf(t, ctx), epoll[19]; v.Selected == nil || v.Selected.Track != want.Track || v.Selected.Seq != want.Seq {
		t.Errorf("stepBack within refused-epoll: selected %+v; want seq %d", v.Selected, want.Seq)
	}

	// Seek moves the cursor.
	evalJS[any](t, ctx, `tl.seek(2575000)`)
	if v := viewOf(t, ctx); v.Cursor != 2575000 {
		t.Errorf("after seek(2575000): cursor = %v", v.Cursor)
	}

	// setView, then the wheel zooms around the pointer.
	evalJS[any](t, ctx, `tl.setView(0, 10e6)`)
	if v := viewOf(t, ctx); v.Start != 0 || v.End != 10e6 {
		t.Errorf("after setView(0, 10e6): view [%v, %v]", v.Start, v.End)
	}
	evalJS[any](t, ctx, `(() => {
		const c = document.getElementById("tl");
		const r = c.getBoundingClientRect();
		c.dispatchEvent(new WheelEvent("wheel", {deltaY: -240, clientX: r.left + tl.timeToX(5e6), clientY: r.top + 200, bubbles: true, cancelable: true}));
	})()`)
	v = viewOf(t, ctx)
	if span := v.End - v.Start; span >= 10e6 || v.Start > 5e6 || v.End < 5e6 {
		t.Errorf("after a wheel zoom at 5ms: view [%v, %v], want narrower than 10ms and around 5ms", v.Start, v.End)
	}

	// Real key presses on the focused canvas pan and zoom.
	evalJS[any](t, ctx, `tl.setView(0, 10e6), document.getElementById("tl").focus()`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	v = viewOf(t, ctx)
	if v.Start <= 0 || math.Abs((v.End-v.Start)-10e6) > 1 {
		t.Errorf("after ArrowRight: view [%v, %v], want the same 10ms span moved right", v.Start, v.End)
	}
	before := v
	if err := chromedp.Do(ctx, chromedp.KeyEvent("+")); err != nil {
		t.Fatal(err)
	}
	v = viewOf(t, ctx)
	if v.End-v.Start >= before.End-before.Start {
		t.Errorf("after +: span %v, want less than %v", v.End-v.Start, before.End-before.Start)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(".")); err != nil {
		t.Fatal(err)
	}
	if v := viewOf(t, ctx); v.Selected == nil {
		t.Errorf("after the . key: nothing selected, want the next event")
	}
	// Play from the end restarts at the start.
	evalJS[any](t, ctx, `tl.seek(tl.view().traceEnd), tl.play()`)
	if v := viewOf(t, ctx); !v.Playing || v.Cursor >= v.TraceEnd/2 {
		t.Errorf("play() at the end: cursor %v of %v, playing %v; want playing from the start", v.Cursor, v.TraceEnd, v.Playing)
	}
	evalJS[any](t, ctx, `tl.pause()`)
	if n := evalJS[int](t, ctx, `window.changes`); n == 0 {
		t.Errorf("onChange was never called")
	}
}

func TestTimelineJumpTo(t *testing.T) {
	tr := smallTrace()
	ctx := openTimeline(t, "small", tr)

	// The handler that waited behind the slow one.
	var target synthEvent
	for _, e := range tr.Tracks[0].evs {
		if e.Name == "req-10ms" && e.Phase == trace.PhaseBegin {
			target = e
		}
	}
	evalJS[any](t, ctx, `tl.setView(0, 1e6)`)
	if ok := evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("refused-epoll", 0, %d)`, target.Seq)); !ok {
		t.Fatalf("jumpTo(refused-epoll, 0, %d) = false", target.Seq)
	}
	v := viewOf(t, ctx)
	if v.Selected == nil || v.Selected.Name != "req-10ms" || v.Selected.Seq != target.Seq {
		t.Fatalf("after jumpTo: selected %+v, want req-10ms seq %d", v.Selected, target.Seq)
	}
	if v.Cursor != float64(target.Time) || v.Start > float64(target.Time) || v.End < float64(target.Time) {
		t.Errorf("after jumpTo: view [%v, %v], cursor %v; want both around %v", v.Start, v.End, v.Cursor, target.Time)
	}
	details := evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	for _, want := range []string{"req-10ms", "waited to run", "80.02 ms"} {
		if !strings.Contains(details, want) {
			t.Errorf("details = %q, want it to contain %q", details, want)
		}
	}
	if got := evalJS[string](t, ctx, `window.selections.at(-1).name`); got != "req-10ms" {
		t.Errorf("onSelect got %q, want req-10ms", got)
	}
	if ok := evalJS[bool](t, ctx, `tl.jumpTo("refused-epoll", 0, 99999)`); ok {
		t.Errorf("jumpTo of a missing seq = true, want false")
	}
	screenshot(t, ctx, "timeline-jump")

	// The refused connect on io_uring: its result is named.
	var connect synthEvent
	for _, e := range tr.Tracks[1].evs {
		if e.Kind == trace.KindComplete && e.Name == "CONNECT" {
			connect = e
		}
	}
	evalJS[bool](t, ctx, fmt.Sprintf(`tl.jumpTo("refused-uring", 0, %d)`, connect.Seq))
	details = evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	for _, want := range []string{"CONNECT", "-111 ECONNREFUSED", "EINPROGRESS", "on-connect"} {
		if !strings.Contains(details, want) {
			t.Errorf("details of the refused connect = %q, want it to contain %q", details, want)
		}
	}

	// A real click on the head-of-line finding's marker shows its sentence.
	evalJS[any](t, ctx, `tl.setView(10e6, 12e6), frames(2)`)
	type point struct{ X, Y float64 }
	p := evalJS[point](t, ctx, `(() => {
		const r = document.getElementById("tl").getBoundingClientRect();
		return {X: r.left + tl.timeToX(10890e3), Y: r.top + tl.laneTop("refused-epoll", "loop", 0) + 6};
	})()`)
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	v = viewOf(t, ctx)
	if v.Selected == nil || v.Selected.Kind != "finding" || !strings.Contains(v.Selected.Message, "waited 80.02ms") {
		t.Fatalf("after clicking the finding's marker: selected %+v, want the head-of-line finding", v.Selected)
	}
	details = evalJS[string](t, ctx, `document.getElementById("details").textContent`)
	if !strings.Contains(details, `"req-10ms" was ready at 10.890ms`) {
		t.Errorf("details after clicking the finding = %q, want its message", details)
	}

	// Hovering the marker shows the sentence too.
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p.X+1, p.Y+1), chromedp.Sleep(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	evalJS[any](t, ctx, `frames(2)`)
	screenshot(t, ctx, "timeline-hover")
}

func TestTimeline100kEvents(t *testing.T) {
	tr := bigTrace(100_000)
	ctx := openTimeline(t, "big", tr)

	type stats struct {
		Frames      int     `json:"frames"`
		Started     int     `json:"started"`
		LastFrameMs float64 `json:"lastFrameMs"`
		AvgFrameMs  float64 `json:"avgFrameMs"`
		P95FrameMs  float64 `json:"p95FrameMs"`
		MaxFrameMs  float64 `json:"maxFrameMs"`
		Drawn       int     `json:"drawn"`
	}
	var report strings.Builder
	fmt.Fprintf(&report, "timeline frame times, %d events, canvas %s\n", len(tr.Tracks[0].Events),
		evalJS[string](t, ctx, `(() => { const c = document.getElementById("tl"); return c.width + "x" + c.height; })()`))
	for _, run := range []struct {
		name   string
		frames int
		span   string
	}{
		{"pan, an eighth of the trace in view", 120, "tl.view().traceEnd / 8"},
		{"pan, a 2ms window", 120, "2e6"},
		{"the whole trace in view", 60, "tl.view().traceEnd"},
	} {
		s := evalJS[stats](t, ctx, fmt.Sprintf(`pan(%d, %s)`, run.frames, run.span))
		line := fmt.Sprintf("%-36s frames %3d  avg %6.2fms  p95 %6.2fms  max %6.2fms  items drawn in the last %d",
			run.name+":", s.Frames, s.AvgFrameMs, s.P95FrameMs, s.MaxFrameMs, s.Drawn)
		t.Log(line)
		report.WriteString(line + "\n")
		if s.Frames == 0 || s.Started != s.Frames {
			t.Errorf("%s: %d frames started, %d finished; want every one to finish", run.name, s.Started, s.Frames)
		}
		if s.Drawn == 0 {
			t.Errorf("%s: the last frame drew nothing", run.name)
		}
	}
	if err := os.MkdirAll(artifactsDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(artifactsDir(), "timeline-frames.txt")
	if err := os.WriteFile(file, []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	evalJS[any](t, ctx, `tl.fit(), frames(2)`)
	screenshot(t, ctx, "timeline-100k")
	evalJS[any](t, ctx, `tl.setView(50e6, 52e6), frames(2)`)
	screenshot(t, ctx, "timeline-100k-zoomed")
}

func TestTimelineLive(t *testing.T) {
	ctx := openTimeline(t, "small", smallTrace())

	// A live run: the view follows the newest event as batches arrive.
	handler := func(seq, at int64, phase trace.Phase) string {
		return fmt.Sprintf("[%d,%d,0,%d,%d,0,0,-1,0,0,0,1]", seq, at, trace.KindHandler, phase)
	}
	evalJS[any](t, ctx, `tl.clear(), tl.setLive(true), tl.addTrack("live-epoll", "live · epoll"), frames(1)`)
	if n := evalJS[int](t, ctx, `tl.eventCount()`); n != 0 {
		t.Fatalf("eventCount() after clear() = %d, want 0", n)
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents("live-epoll", 1, ["tick"], [%s, %s]), frames(1)`,
		handler(1, 1000, trace.PhaseBegin), handler(2, 2000, trace.PhaseEnd)))
	evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents("live-epoll", 2, [], [%s, %s]), frames(1)`,
		handler(3, 5_000_000, trace.PhaseBegin), handler(4, 6_000_000, trace.PhaseEnd)))
	v := viewOf(t, ctx)
	if v.End < 6_000_000 || v.Cursor != 6_000_000 {
		t.Errorf("live, after an event at 6ms: view [%v, %v], cursor %v; want the view to reach 6ms and the cursor at the end", v.Start, v.End, v.Cursor)
	}

	// Once the user zooms, new events no longer move the view.
	evalJS[any](t, ctx, `tl.setView(0, 500e3)`)
	evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents("live-epoll", 2, [], [%s, %s]), frames(1)`,
		handler(5, 9_000_000, trace.PhaseBegin), handler(6, 9_500_000, trace.PhaseEnd)))
	if v := viewOf(t, ctx); v.Start != 0 || v.End != 500e3 {
		t.Errorf("live, zoomed by the user, after new events: view [%v, %v], want [0, 500000]", v.Start, v.End)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("tl").dataset.events`); got != "6" {
		t.Errorf("canvas data-events = %q, want 6", got)
	}
	// fit() follows again.
	evalJS[any](t, ctx, `tl.fit()`)
	if v := viewOf(t, ctx); v.End < 9_500_000 || v.Start != 0 {
		t.Errorf("after fit(): view [%v, %v], want it to start at the run's start and reach 9.5ms", v.Start, v.End)
	}
	// Nothing moves the view before the run's start: not a jump to an
	// early event, not a pan left.
	evalJS[any](t, ctx, `tl.setView(-5e6, 5e6)`)
	if v := viewOf(t, ctx); v.Start != 0 || v.End != 10e6 {
		t.Errorf("after setView(-5ms, 5ms): view [%v, %v], want [0, 10ms]: no time before the run", v.Start, v.End)
	}
}

// TestTimelineResetTrack: a track whose run is run again (a track_reset
// message) loses its events and selection, and keeps its place and
// label for the new run's events.
func TestTimelineResetTrack(t *testing.T) {
	ctx := openTimeline(t, "small", smallTrace())
	handler := func(seq, at int64, phase trace.Phase) string {
		return fmt.Sprintf("[%d,%d,0,%d,%d,0,0,-1,0,0,0,1]", seq, at, trace.KindHandler, phase)
	}
	evalJS[any](t, ctx, `tl.clear(), tl.setLive(true), tl.addTrack("a-epoll", "a on epoll"), tl.addTrack("b-epoll", "b on epoll"), frames(1)`)
	for _, track := range []string{"a-epoll", "b-epoll"} {
		evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents(%q, 1, ["tick"], [%s, %s]), frames(1)`,
			track, handler(1, 1000, trace.PhaseBegin), handler(2, 2000, trace.PhaseEnd)))
	}
	evalJS[any](t, ctx, `tl.sel = {tr: tl.tracks[0], idx: 0}, tl.resetTrack("a-epoll"), frames(1)`)
	if n := evalJS[int](t, ctx, `tl.eventCount()`); n != 2 {
		t.Errorf("eventCount() after resetting a-epoll = %d, want b-epoll's 2", n)
	}
	if got := evalJS[string](t, ctx, `tl.tracks.map(tr => tr.id + ":" + tr.label + ":" + tr.n).join(" ")`); got != "a-epoll:a on epoll:0 b-epoll:b on epoll:2" {
		t.Errorf("tracks after the reset: %s; want a-epoll first, labelled, empty", got)
	}
	if sel := evalJS[bool](t, ctx, `tl.sel === null`); !sel {
		t.Error("the selection in the reset track survived it")
	}
	evalJS[any](t, ctx, fmt.Sprintf(`tl.addEvents("a-epoll", 1, ["tick"], [%s]), frames(1)`, handler(1, 3000, trace.PhaseBegin)))
	if n := evalJS[int](t, ctx, `tl.trackById.get("a-epoll").n`); n != 1 {
		t.Errorf("a-epoll after the new run's first event has %d events, want 1", n)
	}
}
