package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/web/live"
)

// patience bounds every wait in these tests. It is a deadline that turns a
// hang into a failure, never a measurement.
const patience = 30 * time.Second

// msg is the part of a server message the tests look at.
type msg struct {
	Seq     int    `json:"seq"`
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
}

// closedBroken stands for a connection that ended without a close frame.
const closedBroken = -1

// serverConfig shapes the test server.
type serverConfig struct {
	opt live.Options
	// smallBuffers shrinks the server's socket send buffer so that a
	// client that does not read blocks the server's writes after some
	// 200 KiB instead of megabytes.
	smallBuffers bool
}

// serve starts a server whose handler is live.Serve on s, and returns its
// websocket URL. At cleanup it requires that every goroutine of package
// live has ended: a connection must not outlive its client.
func serve(t *testing.T, s *live.Stream, cfg serverConfig) string {
	t.Helper()
	t.Cleanup(func() { waitLiveGoroutinesGone(t) })
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = live.Serve(r.Context(), w, r, s, cfg.opt) // Serve reports to the client; nothing to log here
	}))
	if cfg.smallBuffers {
		srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetWriteBuffer(8 << 10)
			}
			return ctx
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/runs/" + s.ID()
}

// waitLiveGoroutinesGone waits until no goroutine has a frame of package
// live.
func waitLiveGoroutinesGone(t *testing.T) {
	t.Helper()
	waitGoroutineDump(t, "the goroutines of package live to end", func(dump string) bool {
		return !strings.Contains(dump, "asynclab/web/live.")
	})
}

// liveStacks returns the goroutines of a dump that have a frame of
// package live.
func liveStacks(dump []byte) string {
	var out []string
	for g := range strings.SplitSeq(string(dump), "\n\n") {
		if strings.Contains(g, "asynclab/web/live.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// dial connects a client to url and closes it at cleanup.
func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v (response %v)", url, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// read reads one message, failing the test on any error.
func read(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	m, err := readMsg(c)
	if err != nil {
		t.Fatalf("reading a message: %v", err)
	}
	return m
}

func readMsg(c *websocket.Conn) (msg, error) {
	c.SetReadDeadline(time.Now().Add(patience))
	typ, b, err := c.ReadMessage()
	if err != nil {
		return msg{}, err
	}
	if typ != websocket.TextMessage {
		return msg{}, fmt.Errorf("got a frame of type %d, want text", typ)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		return msg{}, fmt.Errorf("message %q is not JSON: %v", b, err)
	}
	return m, nil
}

// readToClose reads messages until the connection ends, and returns them
// with the close code (closedBroken if there was no close frame).
func readToClose(t *testing.T, c *websocket.Conn) ([]msg, int) {
	t.Helper()
	var msgs []msg
	for {
		m, err := readMsg(c)
		if err != nil {
			if isTimeout(err) {
				t.Fatalf("the server neither sent nor closed within %v (after %d messages)", patience, len(msgs))
			}
			return msgs, closeCode(err)
		}
		msgs = append(msgs, m)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return ce.Code
	}
	return closedBroken
}

// seqs returns the seq of each message.
func seqs(msgs []msg) []int {
	out := make([]int, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// span returns from, from+1, ..., to.
func span(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// runTypes is a run's messages in protocol order, without the end that
// Close appends.
var runTypes = []string{"hello", "phase", "track", "events", "events", "findings", "track_end", "phase", "result"}

// appendRun appends runTypes to s with plausible bodies.
func appendRun(s *live.Stream) {
	for _, typ := range runTypes {
		s.Append(typ, body(typ))
	}
}

func body(typ string) any {
	switch typ {
	case "hello":
		return map[string]any{"run": "r", "exercise": "echo", "mode": "run", "live": true,
			"schema": map[string]any{"kinds": []string{"", "syscall"}, "phases": []string{""}, "lints": []string{""}}}
	case "phase":
		return map[string]any{"name": "running", "at": "2026-11-25T22:51:17Z"}
	case "track":
		return map[string]any{"track": "refused-uring", "scenario": "refused", "backend": "uring"}
	case "events":
		return map[string]any{"track": "refused-uring", "first_name": 1, "names": []string{"accept"}, "dropped": 0,
			"events": [][]any{{1, 100, 5, 1, 0, 0, "18446744073709551615", 3, 0, 0, 0, 1}}}
	case "findings":
		return map[string]any{"track": "refused-uring", "findings": []any{}}
	case "track_end":
		return map[string]any{"track": "refused-uring", "verdict": "pass", "events": 1}
	case "result":
		return map[string]any{"result": map[string]any{"pass": true}}
	}
	return nil
}

// wantRun is what a client that reads a whole run sees.
func wantRun() []msg {
	var want []msg
	for i, typ := range append(runTypes, "end") {
		want = append(want, msg{Seq: i + 1, Type: typ})
	}
	return want
}

func TestServeSendsRunInOrder(t *testing.T) {
	tests := []struct {
		name string
		// before is how many of the run's messages exist when the client
		// connects; the rest, and the end, are appended while it reads.
		before int
	}{
		{"ended before connect", len(runTypes) + 1},
		{"hello before connect", 1},
		{"half before connect", len(runTypes) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := live.NewStream("r", false)
			for _, typ := range runTypes[:min(tt.before, len(runTypes))] {
				s.Append(typ, body(typ))
			}
			if tt.before > len(runTypes) {
				s.Close()
			}
			c := dial(t, serve(t, s, serverConfig{}))
			var got []msg
			for range tt.before {
				got = append(got, read(t, c))
			}
			// The rest goes out live: each message is appended only once
			// the previous one has arrived.
			for _, typ := range runTypes[min(tt.before, len(runTypes)):] {
				s.Append(typ, body(typ))
				got = append(got, read(t, c))
			}
			if tt.before <= len(runTypes) {
				s.Close()
			}
			rest, code := readToClose(t, c)
			got = append(got, rest...)
			if diff := cmp.Diff(wantRun(), got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if code != websocket.CloseNormalClosure {
				t.Errorf("close code = %d, want %d", code, websocket.CloseNormalClosure)
			}
		})
	}
}

func TestServeLiveAppendsArriveWithoutBlockingAppender(t *testing.T) {
	const n = 500
	s := live.NewStream("r", false)
	s.Append("hello", body("hello"))
	c := dial(t, serve(t, s, serverConfig{}))
	if m := read(t, c); m.Seq != 1 {
		t.Fatalf("first message = %+v, want seq 1", m)
	}
	// The client is connected and idle: everything from here on is live.
	// The appender runs ahead of the reader without waiting for it.
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for i := range n {
			s.Append("events", map[string]int{"i": i})
		}
		s.Close()
	}()
	select {
	case <-appended:
	case <-time.After(patience):
		t.Fatal("Append did not return while a client was connected")
	}
	got, code := readToClose(t, c)
	if diff := cmp.Diff(span(2, n+2), seqs(got)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if last := got[len(got)-1]; last.Type != "end" {
		t.Errorf("last message = %+v, want end", last)
	}
	if code != websocket.CloseNormalClosure {
		t.Errorf("close code = %d, want %d", code, websocket.CloseNormalClosure)
	}
}

func TestServeResumeAfterReconnect(t *testing.T) {
	n := len(runTypes) + 1 // with the end
	tests := []struct {
		k      int // messages read before the connection drops
		ended  bool
		wantTo int // the last seq the second connection gets before the test closes the stream
	}{
		{k: 0, ended: true},
		{k: 1, ended: true},
		{k: 4, ended: true},
		{k: n - 1, ended: true},
		{k: n, ended: true},
		{k: 1, ended: false},
		{k: 4, ended: false},
		{k: n - 1, ended: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("k=%d/ended=%v", tt.k, tt.ended), func(t *testing.T) {
			s := live.NewStream("r", false)
			appendRun(s)
			if tt.ended {
				s.Close()
			}
			url := serve(t, s, serverConfig{})
			c := dial(t, url)
			for i := range tt.k {
				if m := read(t, c); m.Seq != i+1 {
					t.Fatalf("first connection: message %d has seq %d", i+1, m.Seq)
				}
			}
			c.Close()

			c = dial(t, fmt.Sprintf("%s?after=%d", url, tt.k))
			var got []msg
			if !tt.ended {
				// Read what exists, then end the stream while connected.
				for range n - 1 - tt.k {
					got = append(got, read(t, c))
				}
				s.Close()
			}
			rest, code := readToClose(t, c)
			got = append(got, rest...)
			if diff := cmp.Diff(wantRun()[tt.k:], got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("after=%d (-want +got):\n%s", tt.k, diff)
			}
			if code != websocket.CloseNormalClosure {
				t.Errorf("close code = %d, want %d", code, websocket.CloseNormalClosure)
			}
		})
	}
}

func TestServeResumeInConnection(t *testing.T) {
	n := len(runTypes) // the stream stays open: no end yet
	for _, after := range []int{0, 1, 4, n - 1} {
		t.Run(fmt.Sprintf("after=%d", after), func(t *testing.T) {
			s := live.NewStream("r", false)
			appendRun(s)
			c := dial(t, serve(t, s, serverConfig{}))
			for range n {
				read(t, c)
			}
			if err := c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"resume","after":%d}`, after)); err != nil {
				t.Fatal(err)
			}
			var got []msg
			for range n - after {
				got = append(got, read(t, c))
			}
			if diff := cmp.Diff(wantRun()[after:n], got); diff != "" {
				t.Errorf("resent (-want +got):\n%s", diff)
			}
			// The connection goes on from where it is.
			s.Close()
			rest, code := readToClose(t, c)
			if diff := cmp.Diff([]msg{{Seq: n + 1, Type: "end"}}, rest); diff != "" {
				t.Errorf("after the resend (-want +got):\n%s", diff)
			}
			if code != websocket.CloseNormalClosure {
				t.Errorf("close code = %d, want %d", code, websocket.CloseNormalClosure)
			}
		})
	}
}

func TestServeReplayedStreamResets(t *testing.T) {
	tests := []struct {
		replayed  bool
		after     int
		wantReset bool
		wantFrom  int // the first seq after any reset
	}{
		{replayed: true, after: 3, wantReset: true, wantFrom: 1},
		{replayed: true, after: 1, wantReset: true, wantFrom: 1},
		{replayed: true, after: 99, wantReset: true, wantFrom: 1},
		{replayed: true, after: 0, wantReset: false, wantFrom: 1},
		{replayed: false, after: 3, wantReset: false, wantFrom: 4},
		// More than the stream has: the client holds another numbering
		// (a run graded again after a restart) and must start over.
		{replayed: false, after: 99, wantReset: true, wantFrom: 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("replayed=%v/after=%d", tt.replayed, tt.after), func(t *testing.T) {
			s := live.NewStream("r", tt.replayed)
			appendRun(s)
			s.Close()
			c := dial(t, fmt.Sprintf("%s?after=%d", serve(t, s, serverConfig{}), tt.after))
			got, code := readToClose(t, c)
			var want []msg
			if tt.wantReset {
				want = append(want, msg{Seq: 0, Type: "reset"})
			}
			want = append(want, wantRun()[tt.wantFrom-1:]...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if code != websocket.CloseNormalClosure {
				t.Errorf("close code = %d, want %d", code, websocket.CloseNormalClosure)
			}
		})
	}
}

func TestServeMalformedClientMessage(t *testing.T) {
	tests := []struct {
		name    string
		typ     int
		payload string
	}{
		{"not JSON", websocket.TextMessage, `resume 3`},
		{"empty", websocket.TextMessage, ``},
		{"JSON array", websocket.TextMessage, `[{"type":"resume","after":1}]`},
		{"JSON string", websocket.TextMessage, `"resume"`},
		{"unknown type", websocket.TextMessage, `{"type":"subscribe","after":1}`},
		{"missing type", websocket.TextMessage, `{"after":1}`},
		{"missing after", websocket.TextMessage, `{"type":"resume"}`},
		{"null after", websocket.TextMessage, `{"type":"resume","after":null}`},
		{"negative after", websocket.TextMessage, `{"type":"resume","after":-1}`},
		{"fractional after", websocket.TextMessage, `{"type":"resume","after":1.5}`},
		{"string after", websocket.TextMessage, `{"type":"resume","after":"1"}`},
		{"unknown field", websocket.TextMessage, `{"type":"resume","after":1,"from":2}`},
		{"two objects in one frame", websocket.TextMessage, `{"type":"resume","after":1}{"type":"resume","after":1}`},
		{"trailing bracket", websocket.TextMessage, `{"type":"resume","after":1}]`},
		{"trailing brace", websocket.TextMessage, `{"type":"resume","after":1}}`},
		{"binary frame", websocket.BinaryMessage, `{"type":"resume","after":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := live.NewStream("r", false)
			s.Append("hello", body("hello"))
			c := dial(t, serve(t, s, serverConfig{}))
			read(t, c)
			if err := c.WriteMessage(tt.typ, []byte(tt.payload)); err != nil {
				t.Fatal(err)
			}
			got, code := readToClose(t, c)
			if len(got) != 1 || got[0].Seq != 0 || got[0].Type != "error" || got[0].Message == "" {
				t.Errorf("after %q the server sent %+v, want one {seq 0, type error} with a message", tt.payload, got)
			}
			if code != live.ClosePolicy {
				t.Errorf("close code = %d, want %d", code, live.ClosePolicy)
			}
		})
	}
}

func TestServeClientMessageSize(t *testing.T) {
	// A valid resume padded with spaces to the size under test.
	resume := func(size int) []byte {
		m := []byte(`{"type":"resume","after":0}`)
		return append(m, bytes.Repeat([]byte(" "), size-len(m))...)
	}
	t.Run("at the limit", func(t *testing.T) {
		s := live.NewStream("r", false)
		s.Append("hello", body("hello"))
		c := dial(t, serve(t, s, serverConfig{}))
		read(t, c)
		if err := c.WriteMessage(websocket.TextMessage, resume(live.MaxClientMessage)); err != nil {
			t.Fatal(err)
		}
		if m := read(t, c); m.Seq != 1 || m.Type != "hello" {
			t.Errorf("after a resume of %d bytes the server sent %+v, want hello again", live.MaxClientMessage, m)
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		s := live.NewStream("r", false)
		s.Append("hello", body("hello"))
		c := dial(t, serve(t, s, serverConfig{}))
		read(t, c)
		if err := c.WriteMessage(websocket.TextMessage, resume(live.MaxClientMessage+1)); err != nil {
			t.Fatal(err)
		}
		got, code := readToClose(t, c)
		if len(got) != 0 {
			t.Errorf("the server sent %+v, want nothing before closing", got)
		}
		if code != live.CloseTooBig {
			t.Errorf("close code = %d, want %d", code, live.CloseTooBig)
		}
	})
}

func TestServeBadAfterIsRejectedBeforeUpgrade(t *testing.T) {
	s := live.NewStream("r", false)
	appendRun(s)
	url := serve(t, s, serverConfig{})
	for _, after := range []string{"abc", "-1", "1.5", "0x10", "99999999999999999999999"} {
		t.Run(after, func(t *testing.T) {
			c, resp, err := websocket.DefaultDialer.Dial(url+"?after="+after, nil)
			if err == nil {
				c.Close()
				t.Fatalf("Dial(?after=%s) succeeded, want HTTP 400", after)
			}
			if resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("Dial(?after=%s) = %v, %v; want HTTP 400", after, resp, err)
			}
		})
	}
}

// TestServeDropsSlowConsumer connects a client that never reads and one
// that does, and grows the stream by far more than the socket buffers
// hold. The appender must never wait, the reading client must get
// everything, and the stuck one must be dropped.
func TestServeDropsSlowConsumer(t *testing.T) {
	const (
		// 64 MiB in all: far more than the sockets buffer (here at most
		// 4 MiB sent and 32 MiB received, by net.ipv4.tcp_wmem and
		// tcp_rmem).
		n      = 1000
		size   = 64 << 10
		window = 32 // how far the appender runs ahead of the reading client: within MaxLag
	)
	s := live.NewStream("r", false)
	s.Append("hello", body("hello"))
	url := serve(t, s, serverConfig{opt: live.Options{WriteTimeout: 200 * time.Millisecond, MaxLag: 64}})
	slow := dial(t, url)
	read(t, slow) // past the backlog: from here on it only falls behind
	normal := dial(t, url)
	read(t, normal)

	// The reading client reports each seq; acks has room for all of them
	// so that the reader never waits on the test.
	acks := make(chan int, n+2)
	type result struct {
		msgs []msg
		code int
		err  error
	}
	normalDone := make(chan result, 1)
	go func() {
		var r result
		for {
			m, err := readMsg(normal)
			if err != nil {
				r.code = closeCode(err)
				if isTimeout(err) {
					r.err = err
				}
				normalDone <- r
				return
			}
			r.msgs = append(r.msgs, m)
			acks <- m.Seq
		}
	}()

	pad := strings.Repeat("x", size)
	appended := make(chan error, 1)
	go func() {
		// Append itself never waits; the appender only paces itself to
		// the reading client so that it stays within MaxLag.
		acked := 1
		for i := range n {
			for acked < i+2-window {
				select {
				case acked = <-acks:
				case <-time.After(patience):
					appended <- fmt.Errorf("the reading client stopped at seq %d", acked)
					return
				}
			}
			s.Append("events", map[string]any{"i": i, "pad": pad})
		}
		appended <- nil
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("appending did not finish while a client was stuck")
	}
	s.Close()

	r := <-normalDone
	if r.err != nil {
		t.Fatalf("reading client: %v", r.err)
	}
	if diff := cmp.Diff(span(2, n+2), seqs(r.msgs)); diff != "" {
		t.Errorf("reading client's seqs (-want +got):\n%s", diff)
	}
	if r.code != websocket.CloseNormalClosure {
		t.Errorf("reading client's close code = %d, want %d", r.code, websocket.CloseNormalClosure)
	}

	// Now the stuck client reads what the server had managed to send it.
	got, code := readToClose(t, slow)
	for _, m := range got {
		if m.Type == "end" {
			t.Fatalf("the stuck client got the whole stream (%d messages): it was not dropped", len(got))
		}
	}
	if code != live.CloseTooSlow && code != closedBroken {
		t.Errorf("stuck client's close code = %d, want %d or a broken connection", code, live.CloseTooSlow)
	}
}

// TestServeClosesLaggingClient makes a client fall more than MaxLag
// messages behind while the server is blocked writing to it, then lets it
// read: it gets what the server had taken on, in order, and then close
// 1013.
func TestServeClosesLaggingClient(t *testing.T) {
	const (
		maxLag = 64
		// The server's writer takes up to 256 messages at a time; with
		// small socket buffers it blocks within the first dozen big
		// ones, so the small ones are never in the batch it is writing.
		big = 320
	)
	s := live.NewStream("r", false)
	s.Append("hello", body("hello"))
	url := serve(t, s, serverConfig{opt: live.Options{MaxLag: maxLag}, smallBuffers: true})
	c := dial(t, url)
	read(t, c)
	pad := strings.Repeat("x", 16<<10)
	for i := range big {
		s.Append("events", map[string]any{"i": i, "pad": pad})
	}
	for i := range 2 * maxLag {
		s.Append("events", map[string]any{"i": big + i})
	}
	got, code := readToClose(t, c)
	if diff := cmp.Diff(span(2, len(got)+1), seqs(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if len(got)+1 > s.Len()-maxLag {
		t.Errorf("the client got %d of %d messages, want it dropped more than %d behind", len(got)+1, s.Len(), maxLag)
	}
	if code != live.CloseTooSlow {
		t.Errorf("close code = %d, want %d", code, live.CloseTooSlow)
	}
}

// TestServeMalformedMessageFromStuckClient is a regression test: a client
// that does not read, sends more resumes than the connection queues and
// then a malformed message left the connection's reader blocked forever
// once the writer had given up on the client. The cleanup of serve
// requires every goroutine of the connection to end.
func TestServeMalformedMessageFromStuckClient(t *testing.T) {
	s := live.NewStream("r", false)
	s.Append("hello", body("hello"))
	pad := strings.Repeat("x", 64<<10)
	for i := range 300 {
		s.Append("events", map[string]any{"i": i, "pad": pad})
	}
	url := serve(t, s, serverConfig{opt: live.Options{WriteTimeout: time.Second}, smallBuffers: true})
	c := dial(t, url)
	for range 8 {
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"resume","after":0}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	// Read nothing until the server has given up on the client.
	waitGoroutineDump(t, "the server's writer to give up", func(dump string) bool {
		return !strings.Contains(dump, "web/live.Serve(")
	})
	got, code := readToClose(t, c)
	if code != closedBroken {
		t.Errorf("after %d messages, close code = %d, want a broken connection", len(got), code)
	}
}

// waitGoroutineDump polls the goroutine dump until done returns true for
// it, and fails after patience.
func waitGoroutineDump(t *testing.T, what string, done func(dump string) bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 1<<20)
	for {
		dump := string(buf[:runtime.Stack(buf, true)])
		if done(dump) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; goroutines of package live:\n%s", patience, what, liveStacks([]byte(dump)))
		}
		<-tick.C
	}
}
