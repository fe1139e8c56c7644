package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/asynclab/asynclab/engine/trace"
)

// This file is the one home of the messages the server sends: one type
// name and one constructor per row of the table in docs/live.md. The
// browser (web/static/lab.js) reads them, so a field renamed here is a
// protocol change there too.

// Type names a server message.
type Type string

// The server's message types, in the order of docs/live.md.
const (
	TypeHello      Type = "hello"
	TypePhase      Type = "phase"
	TypeQueue      Type = "queue"
	TypeTrack      Type = "track"
	TypeEvents     Type = "events"
	TypeFindings   Type = "findings"
	TypeTrackEnd   Type = "track_end"
	TypeTrackReset Type = "track_reset"
	TypeResult     Type = "result"
	TypeNotice     Type = "notice"
	TypeEnd        Type = "end"
	TypeReset      Type = "reset"
	TypeError      Type = "error"
)

// Message is a server message before a stream numbers it: its type and
// its other fields, already encoded.
type Message struct {
	Type   Type
	fields []byte // a JSON object, or nil for none
}

// encode returns m as it goes on the wire, numbered seq.
func (m Message) encode(seq int) []byte {
	b := make([]byte, 0, len(m.fields)+40)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, string(m.Type))
	if len(m.fields) > 2 {
		b = append(b, ',')
		return append(b, m.fields[1:]...)
	}
	return append(b, '}')
}

// Decode reads back a message as encode wrote it: its seq, and the
// message, to send on another stream (a relayed run's, numbered there).
func Decode(b []byte) (seq int, m Message, err error) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"seq":`))
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if !ok || i == 0 || i > 9 {
		return 0, Message{}, fmt.Errorf("live: not a message: %.40q", b)
	}
	seq, _ = strconv.Atoi(string(rest[:i]))
	rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"type":"`))
	j := bytes.IndexByte(rest, '"')
	if !ok || j <= 0 {
		return 0, Message{}, fmt.Errorf("live: message %d has no type", seq)
	}
	for _, c := range rest[:j] {
		if (c < 'a' || c > 'z') && c != '_' {
			return 0, Message{}, fmt.Errorf("live: message %d has a malformed type", seq)
		}
	}
	m.Type, rest = Type(rest[:j]), rest[j+1:]
	switch {
	case len(rest) == 1 && rest[0] == '}':
	case len(rest) > 2 && rest[0] == ',' && rest[len(rest)-1] == '}':
		m.fields = append([]byte{'{'}, rest[1:]...)
	default:
		return 0, Message{}, fmt.Errorf("live: message %d (%s) is not a JSON object", seq, m.Type)
	}
	return seq, m, nil
}

// newMessage encodes body, a value that encodes as a JSON object (or nil
// for no fields). A body that does not is a bug of the server's: the
// client is told so in an error message rather than sent a broken one.
func newMessage(typ Type, body any) Message {
	if body == nil {
		return Message{Type: typ}
	}
	b, err := json.Marshal(body)
	if err != nil || len(b) < 2 || b[0] != '{' {
		return ErrorMsg("internal: cannot encode " + string(typ) + " message")
	}
	return Message{Type: typ, fields: b}
}

type helloFields struct {
	Run      string   `json:"run"`
	Exercise string   `json:"exercise"`
	Mode     string   `json:"mode"`
	Live     bool     `json:"live"`
	Judged   []string `json:"judged"`
	Schema   Schema   `json:"schema"`
}

// HelloMsg is always a stream's first message: the run, its exercise, its
// mode ("run" or "submit"), whether it is live, the lint codes the
// exercise's checks judge by ("long-handler"; the timeline shows other
// findings quietly) and the trace's schema.
func HelloMsg(run, exercise, mode string, live bool, judged []trace.LintCode) Message {
	codes := make([]string, 0, len(judged))
	for _, c := range judged {
		codes = append(codes, c.String())
	}
	return newMessage(TypeHello, helloFields{Run: run, Exercise: exercise, Mode: mode, Live: live, Judged: codes, Schema: TraceSchema()})
}

type phaseFields struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// PhaseMsg says grading reached phase name (queued, building, running,
// checking, done) at at.
func PhaseMsg(name string, at time.Time) Message {
	return newMessage(TypePhase, phaseFields{Name: name, At: at})
}

type queueFields struct {
	Ahead   int   `json:"ahead"`
	Waiting bool  `json:"waiting"`
	ETA     int64 `json:"eta_ms,omitempty"`
}

// QueueMsg says where a queued run stands: ahead runs of its lane will
// start before it, or (waiting) it waits behind the student's own earlier
// submission; eta, when known, is about how long until it starts.
func QueueMsg(ahead int, waiting bool, eta time.Duration) Message {
	return newMessage(TypeQueue, queueFields{Ahead: ahead, Waiting: waiting, ETA: eta.Milliseconds()})
}

type trackFields struct {
	Track    string `json:"track"`
	Scenario string `json:"scenario"`
	Backend  string `json:"backend"`
}

// TrackMsg says a sandboxed run of scenario on backend starts, as track.
func TrackMsg(track, scenario, backend string) Message {
	return newMessage(TypeTrack, trackFields{Track: track, Scenario: scenario, Backend: backend})
}

// EventsMsg carries a batch of track's trace events. names extends the
// track's name table from id first on. Its fields are written by hand: a
// run can have a hundred thousand events, and reflection would dominate.
func EventsMsg(track string, first trace.NameID, names []string, evs []trace.Event, dropped uint64) Message {
	return Message{Type: TypeEvents, fields: encodeEvents(track, first, names, evs, dropped)}
}

type findingsFields struct {
	Track    string    `json:"track"`
	Findings []Finding `json:"findings"`
}

// FindingsMsg carries the lints the analyzer found in track's complete
// trace.
func FindingsMsg(track string, fs []trace.Finding) Message {
	return newMessage(TypeFindings, findingsFields{Track: track, Findings: findings(fs)})
}

type trackEndFields struct {
	Track string `json:"track"`
	Run   any    `json:"run"`
}

// TrackEndMsg says track's sandboxed run ended; summary is its summary (a
// grading.RunSummary), which must encode as a JSON object.
func TrackEndMsg(track string, summary any) Message {
	return newMessage(TypeTrackEnd, trackEndFields{Track: track, Run: summary})
}

type trackResetFields struct {
	Track  string `json:"track"`
	Reason string `json:"reason"`
}

// TrackResetMsg says track's run is run again: what was shown of it goes,
// and the new run follows from its track message on. reason says why.
func TrackResetMsg(track, reason string) Message {
	return newMessage(TypeTrackReset, trackResetFields{Track: track, Reason: reason})
}

type resultFields struct {
	Result json.RawMessage `json:"result"`
}

// ResultMsg carries the graded result, the JSON of a grading.Result as it
// was stored.
func ResultMsg(result json.RawMessage) Message {
	return newMessage(TypeResult, resultFields{Result: result})
}

type messageFields struct {
	Message string `json:"message"`
}

// NoticeMsg tells the user something that ends nothing.
func NoticeMsg(message string) Message {
	return newMessage(TypeNotice, messageFields{Message: message})
}

// EndMsg says nothing follows.
func EndMsg() Message { return Message{Type: TypeEnd} }

// ResetMsg tells the client to forget everything: the whole sequence
// follows from seq 1. It is sent with seq 0.
func ResetMsg() Message { return Message{Type: TypeReset} }

// ErrorMsg tells the user why the stream stops; the socket closes after it.
func ErrorMsg(message string) Message {
	b, _ := json.Marshal(messageFields{Message: message}) // a string: cannot fail
	return Message{Type: TypeError, fields: b}
}
