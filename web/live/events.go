package live

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/asynclab/asynclab/engine/trace"
)

// MaxBatch is the most events one events message carries.
const MaxBatch = 2000

// Schema is the names of the trace's numbers, sent in the hello message.
type Schema struct {
	Kinds  []string `json:"kinds"`
	Phases []string `json:"phases"`
	Lints  []string `json:"lints"`
}

// TraceSchema returns the schema of the engine's trace version.
func TraceSchema() Schema {
	var s Schema
	for k := trace.Kind(0); k == 0 || k.Valid(); k++ {
		s.Kinds = append(s.Kinds, k.String())
	}
	for p := trace.Phase(0); p.Valid(); p++ {
		s.Phases = append(s.Phases, p.String())
	}
	for c := trace.LintCode(0); c == 0 || c.Valid(); c++ {
		s.Lints = append(s.Lints, c.String())
	}
	return s
}

// AppendBatch appends b, a decoded frame of track's trace, as events
// messages of at most [MaxBatch] events each. The frame's new names go with
// the first.
//
// A stream keeps at most MaxEventBytes of events messages, whatever the
// run: past them it says once, in a notice, that the view stops there.
// The grader still reads every event, and the recording keeps them.
func (s *Stream) AppendBatch(track string, b trace.Batch) {
	evs := b.Events
	names, first := b.Names, b.FirstName
	for len(evs) > 0 || len(names) > 0 {
		n := min(len(evs), MaxBatch)
		if !s.sendEvents(EventsMsg(track, first, names, evs[:n], b.Dropped)) {
			return
		}
		evs, names = evs[n:], nil
	}
}

// MaxEventBytes is the most bytes of events messages one stream keeps:
// three times the largest stream of a reference handler (batching, two
// tracks of up to 3.8 MB), and less than the eight tracks of a handler
// that fills the 8 MiB trace cap on each. With the lab's workers it bounds
// what live runs hold; the hub's budget bounds the ended ones.
const MaxEventBytes = 24 << 20

// sendEvents appends an events message unless the stream has kept
// MaxEventBytes of them; then it appends, once, a notice that the view
// stops there, and reports false.
func (s *Stream) sendEvents(m Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eventsCut {
		return false
	}
	if s.eventBytes+len(m.fields) > MaxEventBytes {
		s.eventsCut = true
		s.appendLocked(NoticeMsg(fmt.Sprintf("This run recorded more events than the timeline shows (%d MiB of them); "+
			"the timeline stops here. The checks read every event, and the run's trace export has them all.", MaxEventBytes>>20)))
		return false
	}
	s.eventBytes += len(m.fields)
	s.appendLocked(m)
	return true
}

// encodeEvents writes the fields of an events message by hand: a run can
// have a hundred thousand events, and reflection would dominate.
func encodeEvents(track string, first trace.NameID, names []string, evs []trace.Event, dropped uint64) []byte {
	b := make([]byte, 0, 64+len(evs)*48)
	b = append(b, `{"track":`...)
	b = strconv.AppendQuote(b, track)
	b = append(b, `,"first_name":`...)
	b = strconv.AppendUint(b, uint64(first), 10)
	b = append(b, `,"names":`...)
	if names == nil {
		names = []string{}
	}
	nb, _ := json.Marshal(names) // strings only: cannot fail
	b = append(b, nb...)
	b = append(b, `,"dropped":`...)
	b = strconv.AppendUint(b, dropped, 10)
	b = append(b, `,"events":[`...)
	for i := range evs {
		e := &evs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Time, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Dur, 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.Kind), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.Phase), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.Loop), 10)
		b = append(b, ',')
		b = appendID(b, e.Op)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(e.Fd), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Res, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Arg0, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Arg1, 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(e.Name), 10)
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

// appendID writes an op id as a number when a double holds it exactly,
// and as a string otherwise.
func appendID(b []byte, id uint64) []byte {
	if id <= 1<<53 {
		return strconv.AppendUint(b, id, 10)
	}
	b = append(b, '"')
	b = strconv.AppendUint(b, id, 10)
	return append(b, '"')
}

// Finding is a lint finding as the timeline shows it.
type Finding struct {
	Code    string `json:"code"`
	Seq     uint64 `json:"seq"`
	Time    int64  `json:"time"`
	Loop    uint16 `json:"loop"`
	Op      string `json:"op"`
	Subject string `json:"subject,omitempty"`
	Blocker string `json:"blocker,omitempty"`
	Wait    int64  `json:"wait"`
	Message string `json:"message"`
}

// findings converts the analyzer's findings.
func findings(fs []trace.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{Code: f.Code.String(), Seq: f.Seq, Time: f.Time, Loop: f.Loop,
			Op: strconv.FormatUint(f.Op, 10), Subject: f.Subject, Blocker: f.Blocker, Wait: f.Wait, Message: f.Message})
	}
	return out
}
