package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Options tunes [Serve]. A zero field takes its default.
type Options struct {
	// MaxLag is how many messages a connection may fall behind the
	// messages appended since it connected before it is dropped; default
	// 8192. Catching up on the backlog that existed at connect is allowed.
	MaxLag int
	// WriteTimeout is how long one write may wait on the client's socket
	// before the client is dropped; default 10s.
	WriteTimeout time.Duration
	// Ping is how often the server pings; a client silent for three pings
	// is gone. Default 20s.
	Ping time.Duration
	// CheckOrigin, if set, replaces the same-host origin check.
	CheckOrigin func(*http.Request) bool
	// Rewrite, if set, is applied to each encoded message before this
	// connection sends it: what one viewer may see of a run that another
	// sees whole. It must return a message of the same seq and type.
	Rewrite func(msg []byte) []byte
	Logger  *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxLag <= 0 {
		o.MaxLag = 8192
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Ping <= 0 {
		o.Ping = 20 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// MaxClientMessage is the largest message a client may send, in bytes.
const MaxClientMessage = 1024

// The close codes a client may see besides a normal closure.
const (
	ClosePolicy  = websocket.ClosePolicyViolation // a malformed message
	CloseTooBig  = websocket.CloseMessageTooBig   // a message over MaxClientMessage
	CloseTooSlow = websocket.CloseTryAgainLater   // dropped for falling behind
)

// ClientMessage is what a client may send.
type ClientMessage struct {
	Type  string `json:"type"`
	After *int   `json:"after"`
}

// ParseClientMessage checks one client message against the protocol and
// returns the sequence number to resume after.
func ParseClientMessage(b []byte) (int, error) {
	var m ClientMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return 0, fmt.Errorf("not a JSON message of this protocol: %v", err)
	}
	// More would miss a trailing ] or }: only white space may follow.
	if _, err := dec.Token(); err != io.EOF {
		return 0, errors.New("one JSON object per message")
	}
	switch {
	case m.Type != "resume":
		return 0, fmt.Errorf("unknown message type %q; the only one is \"resume\"", m.Type)
	case m.After == nil:
		return 0, errors.New(`"resume" needs "after", the last seq the client has`)
	case *m.After < 0:
		return 0, fmt.Errorf(`"after" is %d; it must be 0 or more`, *m.After)
	}
	return *m.After, nil
}

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 32 << 10}

// control is what a connection's reader tells its writer.
type control struct {
	resume int    // a valid resume: send after this seq
	fail   string // a protocol error to report before closing
}

// Serve upgrades the request to a websocket and sends s from the seq in
// the "after" query parameter (default 0) until the stream ends, the
// client goes, or ctx is done. It never blocks a Stream's appender; a
// Pipe's producer waits for it by design.
func Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, s Source, opt Options) error {
	opt = opt.withDefaults()
	after := 0
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			http.Error(w, `"after" must be a sequence number`, http.StatusBadRequest)
			return nil
		}
		after = n
	}
	up := upgrader
	up.CheckOrigin = opt.CheckOrigin
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil // Upgrade has replied to the client
	}
	defer conn.Close()
	c := &viewerConn{conn: conn, s: s, opt: opt, ctrl: make(chan control, 4), gone: make(chan struct{}), quit: make(chan struct{})}
	go c.read()
	defer close(c.quit)
	return c.write(ctx, after)
}

// viewerConn is one viewer's websocket: a reader of the client's resume
// messages, and a writer of the stream from where the client stands.
type viewerConn struct {
	conn *websocket.Conn
	s    Source
	opt  Options
	ctrl chan control
	gone chan struct{} // closed when the reader stops
	quit chan struct{} // closed when the writer stops
}

func (c *viewerConn) read() {
	defer close(c.gone)
	c.conn.SetReadLimit(MaxClientMessage)
	deadline := 3 * c.opt.Ping
	c.conn.SetReadDeadline(time.Now().Add(deadline))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(deadline)) })
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			return // gone, or too big: the library has sent 1009
		}
		c.conn.SetReadDeadline(time.Now().Add(deadline))
		if typ != websocket.TextMessage {
			c.fail("binary messages are not part of this protocol")
			return
		}
		after, err := ParseClientMessage(b)
		if err != nil {
			c.fail(err.Error())
			return
		}
		select {
		case c.ctrl <- control{resume: after}:
		default: // a flood of resumes: the writer has enough to do
		}
	}
}

// fail hands a protocol error to the writer, unless the writer has
// already stopped and will never take it.
func (c *viewerConn) fail(msg string) {
	select {
	case c.ctrl <- control{fail: msg}:
	case <-c.quit:
	}
}

func (c *viewerConn) write(ctx context.Context, pos int) error {
	ping := time.NewTicker(c.opt.Ping)
	defer ping.Stop()
	base := c.s.Len() // backlog at connect: catching up on it is not lag
	// A client holding seqs of another numbering (a replay, a run graded
	// again after a restart, or simply more than this stream has) starts
	// over rather than miss or mix messages.
	if pos > 0 && (c.s.Replayed() || pos > c.s.Len()) {
		if err := c.send(ResetMsg().encode(0)); err != nil {
			return nil
		}
		pos = 0
	}
	for {
		select {
		case m := <-c.ctrl:
			if !c.apply(m, &pos) {
				return nil
			}
		case <-ping.C: // a busy connection is pinged too
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opt.WriteTimeout)); err != nil {
				return nil
			}
		default:
		}
		msgs, done, wake := c.s.Since(pos, 256)
		if c.s.Abandoned() {
			// The run goes on in another stream: the client reconnects
			// to it, and is reset there.
			c.close(websocket.CloseGoingAway, "the run moved: reconnect")
			return nil
		}
		if lag := c.s.Len() - max(pos, base); lag > c.opt.MaxLag {
			c.opt.Logger.Info("dropping a slow viewer", "run", c.s.ID(), "lag", lag)
			c.close(CloseTooSlow, "too slow: reconnect and resume")
			return nil
		}
		for _, m := range msgs {
			if c.opt.Rewrite != nil {
				m = c.opt.Rewrite(m)
			}
			if err := c.send(m); err != nil {
				c.opt.Logger.Info("viewer gone", "run", c.s.ID(), "err", err)
				return nil
			}
		}
		pos += len(msgs)
		if done {
			c.close(websocket.CloseNormalClosure, "end")
			return nil
		}
		if len(msgs) > 0 {
			continue
		}
		select {
		case <-wake:
		case m := <-c.ctrl:
			if !c.apply(m, &pos) {
				return nil
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opt.WriteTimeout)); err != nil {
				return nil
			}
		case <-c.gone:
			select {
			case m := <-c.ctrl: // the reader's last word, if any
				c.apply(m, &pos)
			default:
			}
			return nil
		case <-ctx.Done():
			c.close(websocket.CloseGoingAway, "server stopping")
			return nil
		}
	}
}

// apply carries out what the reader said; false means the connection is
// over.
func (c *viewerConn) apply(m control, pos *int) bool {
	if m.fail != "" {
		c.send(ErrorMsg(m.fail).encode(0))
		c.close(ClosePolicy, "malformed message")
		return false
	}
	*pos = min(m.resume, c.s.Len())
	return true
}

func (c *viewerConn) send(m []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.opt.WriteTimeout))
	return c.conn.WriteMessage(websocket.TextMessage, m)
}

func (c *viewerConn) close(code int, text string) {
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}
