// Package livebench measures how many websocket viewers of one live run a
// server serves within a lag budget; `lab bench web` prints it.
//
// It lives under internal/bench, beside the engine's benchmarks, and not in
// web/live, so that the production package carries no httptest server and
// no measuring code. It uses only web/live's exported API: the stream, its
// websocket handler, and [live.Decode] to send messages built by hand (a
// stamp of when each was appended, ahead of a run's events), as a relayed
// run's messages are sent. What it measures is therefore what the lab
// serves.
package livebench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/web/live"
)

// LagResult is what [MeasureViewerLag] measured. A lag is the time from
// appending a message to a viewer having all of it; the percentiles are
// over every message every viewer received.
type LagResult struct {
	Viewers  int
	Messages int // events messages appended
	P50, P99 time.Duration
	Max      time.Duration
	// Dropped is how many viewers the server dropped before the end; the
	// messages they did receive count.
	Dropped int
}

// MeasureViewerLag measures how many concurrent websocket viewers of one
// stream one server can serve: it serves one [live.Stream] from a server on
// 127.0.0.1, connects viewers websocket clients to it, and once each has
// the hello, appends messages events messages of about msgSize bytes, one
// every rate (back to back if rate is 0), each stamped with its append
// time. Every viewer records when it has received each message. The
// viewers run in this process, on the server's CPUs, as browsers would
// not: the figures are an upper bound for a server of this many cores.
func MeasureViewerLag(ctx context.Context, viewers, messages, msgSize int, rate time.Duration) (LagResult, error) {
	if viewers < 1 || messages < 1 || msgSize < 1 {
		return LagResult{}, fmt.Errorf("livebench: measure viewer lag: viewers, messages and size must be above 0, not %d, %d and %d", viewers, messages, msgSize)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	batches, err := newBatch(msgSize)
	if err != nil {
		return LagResult{}, fmt.Errorf("livebench: measure viewer lag: %w", err)
	}
	s := live.NewStream("bench", false)
	s.Send(live.HelloMsg("bench", "bench", "run", true, nil))
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		live.Serve(ctx, w, r, s, live.Options{})
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/runs/bench"

	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conns := make([]*websocket.Conn, 0, viewers)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	defer func() {
		cancel()
		closeAll()
		handlers.Wait()
	}()
	for range viewers {
		c, _, err := dialer.DialContext(ctx, url, nil)
		if err != nil {
			return LagResult{}, fmt.Errorf("livebench: measure viewer lag: connect viewer %d of %d: %w", len(conns)+1, viewers, err)
		}
		conns = append(conns, c)
	}
	// A cancelled measurement unblocks the viewers by closing their
	// connections.
	defer context.AfterFunc(ctx, closeAll)()

	epoch := time.Now()
	vs := make([]viewer, viewers)
	var helloed, finished sync.WaitGroup
	for i, c := range conns {
		helloed.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			vs[i].run(c, epoch, messages, helloed.Done)
		}()
	}
	helloed.Wait()

	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(rate)
		defer t.Stop()
		tick = t.C
	}
	var sendErr error
	for range messages {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		m, err := batches.next(time.Since(epoch))
		if err != nil {
			sendErr = err
			break
		}
		s.Send(m)
	}
	s.Close()
	finished.Wait()
	if err := cmp.Or(ctx.Err(), sendErr); err != nil {
		return LagResult{}, fmt.Errorf("livebench: measure viewer lag: %w", err)
	}

	res := LagResult{Viewers: viewers, Messages: messages}
	var lags []time.Duration
	for _, v := range vs {
		lags = append(lags, v.lags...)
		if !v.complete {
			res.Dropped++
		}
	}
	if len(lags) == 0 {
		return res, errors.New("livebench: measure viewer lag: no viewer received a message")
	}
	slices.Sort(lags)
	res.P50, res.P99, res.Max = percentile(lags, 50), percentile(lags, 99), lags[len(lags)-1]
	return res, nil
}

// MaxViewers runs [MeasureViewerLag] with 1, 2, 4, ... 1024 viewers until
// the p99 lag exceeds budget or a viewer is dropped, and returns every
// step's result, the last one over budget unless 1024 viewers fit.
func MaxViewers(ctx context.Context, budget time.Duration, messages, msgSize int, rate time.Duration) ([]LagResult, error) {
	var steps []LagResult
	for v := 1; v <= 1024; v *= 2 {
		r, err := MeasureViewerLag(ctx, v, messages, msgSize, rate)
		if err != nil {
			return steps, err
		}
		steps = append(steps, r)
		if r.P99 > budget || r.Dropped > 0 {
			break
		}
	}
	return steps, nil
}

// percentile returns the nearest-rank pth percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100
	return sorted[max(rank, 1)-1]
}

// viewer is one measuring client.
type viewer struct {
	lags     []time.Duration
	complete bool // got the end and a normal close
}

// stampField carries an events message's append time, in nanoseconds
// since the measurement began. It comes first so that a viewer finds it
// without decoding the batch, as a browser would not need to.
const stampField = `"append_ns":`

// run reads c until the connection ends, calling hello once the first
// message is in or the connection has failed.
func (v *viewer) run(c *websocket.Conn, epoch time.Time, messages int, hello func()) {
	v.lags = make([]time.Duration, 0, messages)
	var once sync.Once
	defer once.Do(hello)
	head := make([]byte, 96)
	ended := false
	for {
		_, r, err := c.NextReader()
		if err != nil {
			v.complete = ended && websocket.IsCloseError(err, websocket.CloseNormalClosure)
			return
		}
		n, err := io.ReadFull(r, head)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		} else if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil // a short message
		}
		if err != nil {
			return
		}
		now := time.Since(epoch)
		once.Do(hello)
		h := head[:n]
		if i := bytes.Index(h, []byte(stampField)); i >= 0 {
			d := h[i+len(stampField):]
			d = d[:max(0, bytes.IndexByte(d, ','))]
			if at, err := strconv.ParseInt(string(d), 10, 64); err == nil {
				v.lags = append(v.lags, now-time.Duration(at))
			}
		} else if bytes.Contains(h, []byte(`"type":"end"`)) {
			ended = true
		}
	}
}

// batch makes events messages shaped like a run's: one io_uring loop
// accepting and echoing, its handlers, a timer and the counters.
type batch struct {
	events []trace.Event
	names  []string
	sent   int // messages made
}

// batchTrack is the track the messages are of.
const batchTrack = "bench-uring"

// newBatch returns a batch maker whose messages have about size bytes.
func newBatch(size int) (*batch, error) {
	b := &batch{names: []string{"accept", "on_accept", "recv", "on_recv", "send", "io_uring_enter", "runq", "inflight", "deadline"}}
	empty, err := eventsFields(live.EventsMsg(batchTrack, 1, nil, nil, 0))
	if err != nil {
		return nil, err
	}
	probe, err := eventsFields(live.EventsMsg(batchTrack, 1, nil, b.gen(64, 0), 0))
	if err != nil {
		return nil, err
	}
	perEvent := (len(probe) - len(empty) + 63) / 64
	n := max(1, (size-len(empty)-len(stampField)-40)/perEvent)
	b.events = b.gen(n, 0)
	return b, nil
}

// gen returns n events from seq first+1 on.
func (b *batch) gen(n int, first uint64) []trace.Event {
	const fd = 7
	evs := make([]trace.Event, n)
	for i := range evs {
		seq := first + uint64(i) + 1
		t := int64(seq) * 2500
		op := seq/4 + 1<<40 // large op ids, as io_uring user data are
		e := trace.Event{Seq: seq, Time: t, Fd: -1, Op: op}
		switch i % 8 {
		case 0:
			e.Kind, e.Name, e.Fd, e.Res = trace.KindSubmit, 3, fd, 0
		case 1:
			e.Kind, e.Name, e.Dur, e.Res = trace.KindSyscall, 6, 1800, 1
		case 2:
			e.Kind, e.Res = trace.KindWakeup, 2
		case 3:
			e.Kind, e.Res, e.Arg0 = trace.KindComplete, 512, 2
		case 4:
			e.Kind, e.Phase, e.Name, e.Arg0 = trace.KindHandler, trace.PhaseBegin, 4, t-900
		case 5:
			e.Kind, e.Name, e.Fd, e.Res = trace.KindSubmit, 5, fd, 0
		case 6:
			e.Kind, e.Phase, e.Name = trace.KindHandler, trace.PhaseEnd, 4
		case 7:
			e.Kind, e.Name, e.Res = trace.KindCounter, 7, int64(seq%13)
		}
		evs[i] = e
	}
	return evs
}

// next returns the next events message, stamped with at.
func (b *batch) next(at time.Duration) (live.Message, error) {
	var names []string
	if b.sent == 0 {
		names = b.names
	}
	b.sent++
	// Move the batch on in time, as a run's next batch would be.
	step := uint64(len(b.events))
	for i := range b.events {
		b.events[i].Seq += step
		b.events[i].Time += int64(step) * 2500
	}
	fields, err := eventsFields(live.EventsMsg(batchTrack, 1, names, b.events, 0))
	if err != nil {
		return live.Message{}, err
	}
	// live.Decode turns the stamped message back into one a stream sends,
	// as it does a relayed run's.
	m := make([]byte, 0, len(eventsHead)+len(stampField)+24+len(fields))
	m = append(m, eventsHead...)
	m = append(m, stampField...)
	m = strconv.AppendInt(m, int64(at), 10)
	m = append(m, ',')
	m = append(m, fields[1:]...)
	_, msg, err := live.Decode(m)
	return msg, err
}

// eventsHead is how a stream's first message begins when it is an events
// message; the rest is the message's other fields, as a JSON object
// without its opening brace.
const eventsHead = `{"seq":1,"type":"events",`

// eventsFields returns the other fields of the events message m, as the
// JSON object a stream writes after its seq and type.
func eventsFields(m live.Message) ([]byte, error) {
	s := live.NewStream("", false)
	s.Send(m)
	msgs, _, _ := s.Since(0, 1)
	rest, ok := bytes.CutPrefix(msgs[0], []byte(eventsHead))
	if !ok {
		return nil, fmt.Errorf("an events message begins %.40q, want %q", msgs[0], eventsHead)
	}
	return append([]byte{'{'}, rest...), nil
}
