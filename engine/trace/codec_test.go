package trace

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sampleTrace is a small valid trace with two loops and every kind.
func sampleTrace() *Trace {
	return &Trace{
		Version: Version,
		Names:   []string{"", "read", "on-read", "READ", "runq", "hello", "fut", "tmr", "blocking wait", "epoll_wait"},
		Events: []Event{
			{Seq: 1, Time: 0, Kind: KindHandler, Phase: PhaseBegin, Name: 2, Fd: -1},
			{Seq: 2, Time: 10, Kind: KindSubmit, Op: 7, Fd: 5, Name: 3, Arg0: 4},
			{Seq: 3, Time: 20, Dur: 30, Kind: KindSyscall, Name: 1, Fd: 5, Res: -11},
			{Seq: 4, Time: 60, Dur: 60, Kind: KindHandler, Phase: PhaseEnd, Name: 2, Fd: -1},
			{Seq: 1, Time: 61, Kind: KindMark, Name: 5, Loop: 1, Fd: -1},
			{Seq: 5, Time: 70, Kind: KindWakeup, Res: 1, Fd: -1},
			{Seq: 6, Time: 80, Kind: KindComplete, Op: 7, Res: 12, Fd: 5, Name: 3},
			{Seq: 7, Time: 90, Kind: KindCounter, Name: 4, Res: 3, Fd: -1},
			{Seq: 9, Time: 95, Kind: KindFuture, Phase: PhaseCreate, Op: 8, Name: 6, Fd: -1},
			{Seq: 10, Time: 96, Kind: KindTimer, Phase: PhaseCreate, Op: 9, Name: 7, Arg0: 1000, Fd: -1},
			{Seq: 11, Time: 97, Kind: KindLint, Arg0: int64(LintDeadlock), Name: 8, Op: 8, Fd: -1},
			{Seq: 12, Time: 98, Kind: KindCancel, Op: 7, Res: -2, Fd: -1},
			{Seq: 13, Time: 98, Kind: KindReady, Name: 9, Fd: 5, Arg0: 0x5, Arg1: 4},
			{Seq: 14, Time: 98, Kind: KindSyscall, Phase: PhaseBegin, Name: 1, Fd: 5},
			{Seq: 2, Time: 99, Kind: KindMark, Name: 5, Loop: 1, Fd: -1, Arg1: -1},
		},
		Dropped: 1,
	}
}

func encodeTrace(t testing.TB, tr *Trace) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, tr); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	want := sampleTrace()
	got, err := Decode(bytes.NewReader(encodeTrace(t, want)), DefaultLimits())
	if err != nil {
		t.Fatalf("Decode(Encode(sample)) error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(Encode(sample)) (-want +got):\n%s", diff)
	}
}

func TestEncodeChunksLargeBatches(t *testing.T) {
	tr := &Trace{Version: Version, Names: []string{""}}
	for i := range 3*eventsPerFrame + 5 {
		tr.Events = append(tr.Events, Event{Seq: uint64(i + 1), Kind: KindMark, Time: int64(i)})
	}
	for i := range 5000 {
		tr.Names = append(tr.Names, fmt.Sprintf("%0100d", i)) // 100-byte names: several frames
	}
	data := encodeTrace(t, tr)
	d := NewDecoder(bytes.NewReader(data), DefaultLimits())
	frames := map[string]int{}
	for {
		b, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		switch {
		case len(b.Names) > 0:
			frames["names"]++
		case len(b.Events) > 0:
			frames["events"]++
		}
	}
	if frames["events"] != 4 || frames["names"] < 2 {
		t.Errorf("frames = %v, want 4 events frames and at least 2 names frames", frames)
	}
	got, err := Decode(bytes.NewReader(data), DefaultLimits())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(tr, got); diff != "" {
		t.Errorf("Decode(Encode(large)) differs (-want +got):\n%.2000s", diff)
	}
}

func TestDecoderBatches(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, err := range []error{
		enc.WriteHeader(),
		enc.WriteNames(1, []string{"a", "b"}),
		enc.WriteEvents([]Event{{Seq: 1, Kind: KindMark, Name: 2}}),
		enc.WriteNames(3, nil), // writes nothing
		enc.WriteEvents(nil),   // writes nothing
		enc.WriteDropped(4),
		enc.Close(),
	} {
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
	d := NewDecoder(&buf, DefaultLimits())
	var got []Batch
	for {
		b, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, b)
	}
	want := []Batch{
		{Names: []string{"a", "b"}, FirstName: 1},
		{Events: []Event{{Seq: 1, Kind: KindMark, Name: 2}}},
		{Dropped: 4},
		{Dropped: 4, End: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Errorf("Next after EOF = %v, want io.EOF", err)
	}
}

// Helpers that build raw, possibly hostile, streams.

func rawFrame(typ byte, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	b := []byte{typ, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], uint32(len(p)))
	return append(b, p...)
}

func rawFrameLen(typ byte, n uint32, payload []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], n)
	return append(b, payload...)
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func rawHeader() []byte {
	return rawFrame('H', []byte("ALTR"), le16(Version), le16(RecordSize))
}

func rawNames(first uint32, names ...string) []byte {
	p := append(le32(first), le32(uint32(len(names)))...)
	for _, s := range names {
		p = append(p, le16(uint16(len(s)))...)
		p = append(p, s...)
	}
	return rawFrame('N', p)
}

func rawEvents(evs ...Event) []byte {
	var p []byte
	for i := range evs {
		p = appendRecord(p, &evs[i])
	}
	return rawFrame('E', p)
}

var rawEnd = rawFrame('Z')

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func mark(seq uint64) Event { return Event{Seq: seq, Kind: KindMark} }

func marks(from, to uint64) []Event {
	var evs []Event
	for s := from; s <= to; s++ {
		evs = append(evs, mark(s))
	}
	return evs
}

func TestDecodeRejects(t *testing.T) {
	small := Limits{MaxFrame: 1024, MaxEvents: 3, MaxNames: 4, MaxNameLen: 8, MaxBytes: 4096}
	for _, tt := range []struct {
		name  string
		data  []byte
		lim   Limits
		kind  error // ErrMalformed or ErrTooLarge
		eof   bool  // also io.ErrUnexpectedEOF
		msg   string
		frame int
	}{
		{name: "empty", data: nil, kind: ErrMalformed, eof: true, msg: "empty stream"},
		{name: "wrong magic", data: cat(rawFrame('H', []byte("ALTX"), le16(Version), le16(RecordSize)), rawEnd), kind: ErrMalformed, msg: "bad magic"},
		{name: "wrong version", data: cat(rawFrame('H', []byte("ALTR"), le16(Version+1), le16(RecordSize)), rawEnd), kind: ErrMalformed, msg: "schema version 2"},
		{name: "wrong record size", data: cat(rawFrame('H', []byte("ALTR"), le16(Version), le16(64)), rawEnd), kind: ErrMalformed, msg: "record size 64"},
		{name: "header too long", data: cat(rawFrame('H', []byte("ALTR"), le16(Version), le16(RecordSize), []byte{0}), rawEnd), kind: ErrMalformed, msg: "header frame is 9 bytes"},
		{name: "second header", data: cat(rawHeader(), rawHeader(), rawEnd), kind: ErrMalformed, msg: "second header", frame: 1},
		{name: "events before header", data: cat(rawEvents(mark(1)), rawHeader(), rawEnd), kind: ErrMalformed, msg: "events frame before the header"},
		{name: "unknown frame type", data: cat(rawHeader(), rawFrame('Q'), rawEnd), kind: ErrMalformed, msg: "unknown frame type 0x51", frame: 1},
		{name: "frame over limit", data: cat(rawHeader(), rawFrameLen('E', 0xffffffff, nil)), kind: ErrTooLarge, msg: "exceeds the 1048576-byte frame limit"},
		{name: "stream over limit", data: cat(rawHeader(), rawEvents(marks(1, 10)...), rawEvents(marks(11, 20)...)), lim: Limits{MaxBytes: 1000}, kind: ErrTooLarge, msg: "stream exceeds the 1000-byte limit"},
		{name: "too many events", data: cat(rawHeader(), rawEvents(mark(1), mark(2)), rawEvents(mark(3), mark(4)), rawEnd), lim: small, kind: ErrTooLarge, msg: "more than 3 events", frame: 2},
		{name: "too many names", data: cat(rawHeader(), rawNames(1, "a", "b"), rawNames(3, "c", "d"), rawEnd), lim: small, kind: ErrTooLarge, msg: "more than 4 names", frame: 2},
		{name: "name too long", data: cat(rawHeader(), rawNames(1, "abcdefghi"), rawEnd), lim: small, kind: ErrTooLarge, msg: "name 1 is 9 bytes, more than 8"},
		{name: "events length not a multiple", data: cat(rawHeader(), rawFrame('E', make([]byte, RecordSize+1)), rawEnd), kind: ErrMalformed, msg: "not a non-zero multiple of 68"},
		{name: "empty events frame", data: cat(rawHeader(), rawFrame('E'), rawEnd), kind: ErrMalformed, msg: "events frame is 0 bytes"},
		{name: "empty names frame", data: cat(rawHeader(), rawFrame('N', le32(1), le32(0), le16(0)), rawEnd), kind: ErrMalformed, msg: "no names"},
		{name: "names frame too short", data: cat(rawHeader(), rawFrame('N', le32(1), le32(0)), rawEnd), kind: ErrMalformed, msg: "too short"},
		{name: "names count lies", data: cat(rawHeader(), rawFrame('N', le32(1), le32(0xffffffff), le16(1), []byte("a")), rawEnd), kind: ErrTooLarge, msg: "more than 65536 names"},
		{name: "names count over payload", data: cat(rawHeader(), rawFrame('N', le32(1), le32(100), le16(1), []byte("a")), rawEnd), kind: ErrMalformed, msg: "claims 100 names in 3 bytes"},
		{name: "name length over frame", data: cat(rawHeader(), rawFrame('N', le32(1), le32(1), le16(50), []byte("abc")), rawEnd), kind: ErrMalformed, msg: "50 bytes claimed, 3 left"},
		{name: "bytes after last name", data: cat(rawHeader(), rawFrame('N', le32(1), le32(1), le16(1), []byte("ab")), rawEnd), kind: ErrMalformed, msg: "1 bytes after the last name"},
		{name: "name not UTF-8", data: cat(rawHeader(), rawNames(1, "ok", "ok", "bad\xff"), rawEnd), kind: ErrMalformed, msg: "name 3 is not UTF-8"},
		{name: "name with control char", data: cat(rawHeader(), rawNames(1, "tab\there"), rawEnd), kind: ErrMalformed, msg: "name 1 is not UTF-8 without control characters"},
		{name: "names out of order", data: cat(rawHeader(), rawNames(1, "a"), rawNames(3, "c"), rawEnd), kind: ErrMalformed, msg: "names start at id 3, want 2", frame: 2},
		{name: "names restart at 0", data: cat(rawHeader(), rawNames(0, "x"), rawEnd), kind: ErrMalformed, msg: "names start at id 0, want 1"},
		{name: "invalid kind", data: cat(rawHeader(), rawEvents(Event{Seq: 1}), rawEnd), kind: ErrMalformed, msg: "event 0: invalid kind 0"},
		{name: "kind out of range", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: kindMax}), rawEnd), kind: ErrMalformed, msg: "invalid kind 13"},
		{name: "syscall begin with a duration", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindSyscall, Phase: PhaseBegin, Dur: 5}), rawEnd), kind: ErrMalformed, msg: "event 0: syscall begin with duration 5 and result 0"},
		{name: "syscall begin with a result", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindSyscall, Phase: PhaseBegin, Res: -11}), rawEnd), kind: ErrMalformed, msg: "syscall begin with duration 0 and result -11"},
		{name: "syscall end", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindSyscall, Phase: PhaseEnd}), rawEnd), kind: ErrMalformed, msg: "syscall with phase end, want instant or begin"},
		{name: "syscall wait", data: cat(rawHeader(), rawEvents(mark(1), Event{Seq: 2, Kind: KindSyscall, Phase: PhaseWait}), rawEnd), kind: ErrMalformed, msg: "event 1: syscall with phase wait"},
		{name: "ready begin", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Phase: PhaseBegin, Fd: 3}), rawEnd), kind: ErrMalformed, msg: "ready with phase begin, want instant"},
		{name: "ready with a duration", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Dur: 1, Fd: 3}), rawEnd), kind: ErrMalformed, msg: "ready with duration 1"},
		{name: "ready on a negative fd", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Fd: -2}), rawEnd), kind: ErrMalformed, msg: "ready on fd -2"},
		{name: "ready mask over 32 bits", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Fd: 3, Arg0: 1 << 32}), rawEnd), kind: ErrMalformed, msg: "event mask 0x100000000, not a uint32"},
		{name: "ready negative mask", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Fd: 3, Arg0: -1}), rawEnd), kind: ErrMalformed, msg: "not a uint32"},
		{name: "ready from a negative epoll fd", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Fd: 3, Arg0: 4, Arg1: -1}), rawEnd), kind: ErrMalformed, msg: "ready from epoll fd -1"},
		{name: "ready from an epoll fd over 32 bits", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindReady, Fd: 3, Arg0: 4, Arg1: 1 << 31}), rawEnd), kind: ErrMalformed, msg: "ready from epoll fd 2147483648"},
		{name: "invalid phase", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindHandler, Phase: phaseMax}), rawEnd), kind: ErrMalformed, msg: "invalid phase 8"},
		{name: "undefined name", data: cat(rawHeader(), rawNames(1, "a"), rawEvents(Event{Seq: 1, Kind: KindMark, Name: 2}), rawEnd), kind: ErrMalformed, msg: "name 2 is not defined yet", frame: 2},
		{name: "name defined too late", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindMark, Name: 1}), rawNames(1, "a"), rawEnd), kind: ErrMalformed, msg: "name 1 is not defined yet"},
		{name: "seq zero", data: cat(rawHeader(), rawEvents(mark(0)), rawEnd), kind: ErrMalformed, msg: "seq 0 does not follow 0"},
		{name: "seq repeats", data: cat(rawHeader(), rawEvents(mark(1), mark(2)), rawEvents(mark(2)), rawEnd), kind: ErrMalformed, msg: "event 0: loop 0 seq 2 does not follow 2", frame: 2},
		{name: "seq goes back", data: cat(rawHeader(), rawEvents(mark(5), mark(3)), rawEnd), kind: ErrMalformed, msg: "event 1: loop 0 seq 3 does not follow 5"},
		{name: "negative duration", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindSyscall, Dur: -1}), rawEnd), kind: ErrMalformed, msg: "negative duration -1"},
		{name: "negative time", data: cat(rawHeader(), rawEvents(Event{Seq: 1, Kind: KindSyscall, Time: -5}), rawEnd), kind: ErrMalformed, msg: "negative time -5"},
		{name: "dropped wrong size", data: cat(rawHeader(), rawFrame('D', le32(1)), rawEnd), kind: ErrMalformed, msg: "dropped frame is 4 bytes"},
		{name: "dropped decreases", data: cat(rawHeader(), rawFrame('D', le64(5)), rawFrame('D', le64(4)), rawEnd), kind: ErrMalformed, msg: "dropped count 4 is below the previous 5", frame: 2},
		{name: "end with payload", data: cat(rawHeader(), rawFrame('Z', []byte{0})), kind: ErrMalformed, msg: "end frame is 1 bytes"},
		{name: "data after end", data: cat(rawHeader(), rawEnd, []byte{0}), kind: ErrMalformed, msg: "data after the end frame", frame: 2},
		{name: "frame after end", data: cat(rawHeader(), rawEnd, rawEvents(mark(1))), kind: ErrMalformed, msg: "data after the end frame"},
		{name: "missing end frame", data: cat(rawHeader(), rawEvents(mark(1))), kind: ErrMalformed, eof: true, msg: "without an end frame", frame: 2},
		{name: "truncated frame header", data: cat(rawHeader(), rawEnd[:3]), kind: ErrMalformed, eof: true, msg: "truncated frame header (3 of 5 bytes)"},
		{name: "truncated payload", data: cat(rawHeader(), rawEvents(mark(1))[:40]), kind: ErrMalformed, eof: true, msg: "truncated events frame (35 of 68 bytes)"},
		{name: "truncated header payload", data: rawHeader()[:9], kind: ErrMalformed, eof: true, msg: "truncated header frame"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.data), tt.lim)
			if err == nil {
				t.Fatalf("Decode(%s) = nil error, want %v", tt.name, tt.kind)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("Decode(%s) = %v, want errors.Is %v", tt.name, err, tt.kind)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.eof {
				t.Errorf("Decode(%s) = %v; errors.Is(io.ErrUnexpectedEOF) = %v, want %v", tt.name, err, got, tt.eof)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "trace: frame ") {
				t.Errorf("Decode(%s) = %q, want it to contain %q", tt.name, err, tt.msg)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%s) = %T, want *DecodeError", tt.name, err)
			}
			if de.Frame != tt.frame && tt.frame != 0 {
				t.Errorf("Decode(%s) frame = %d, want %d", tt.name, de.Frame, tt.frame)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"header and end", cat(rawHeader(), rawEnd)},
		{"seq per loop", cat(rawHeader(), rawEvents(mark(5), Event{Seq: 1, Loop: 1, Kind: KindMark}, mark(6)), rawEnd)},
		{"seq gaps", cat(rawHeader(), rawEvents(mark(1), mark(10)), rawEvents(mark(11)), rawEnd)},
		{"empty name", cat(rawHeader(), rawNames(1, "", "x"), rawEnd)},
		{"unicode name", cat(rawHeader(), rawNames(1, "héllo ✓"), rawEnd)},
		{"dropped anywhere", cat(rawHeader(), rawFrame('D', le64(0)), rawEvents(mark(1)), rawFrame('D', le64(3)), rawEnd)},
		{"syscall begin and its record", cat(rawHeader(), rawNames(1, "connect"), rawEvents(
			Event{Seq: 1, Kind: KindSyscall, Phase: PhaseBegin, Name: 1, Fd: 7, Time: 10},
			Event{Seq: 2, Kind: KindSyscall, Name: 1, Fd: 7, Time: 10, Dur: 5, Res: -115}), rawEnd)},
		{"unfinished syscall", cat(rawHeader(), rawNames(1, "connect"), rawEvents(Event{Seq: 1, Kind: KindSyscall, Phase: PhaseBegin, Name: 1, Fd: 7}), rawEnd)},
		{"ready", cat(rawHeader(), rawNames(1, "epoll_wait"), rawEvents(
			Event{Seq: 1, Kind: KindReady, Name: 1, Fd: 7, Arg0: 0x4 | 0x2000, Arg1: 5},
			Event{Seq: 2, Kind: KindReady, Name: 1, Fd: -1, Arg0: 0xffffffff, Arg1: 0}), rawEnd)},
		{"a trace from before begins and ready events", encodeTrace(t, chromeSample())},
	} {
		if _, err := Decode(bytes.NewReader(tt.data), DefaultLimits()); err != nil {
			t.Errorf("Decode(%s) = %v, want nil", tt.name, err)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Decode(io.MultiReader(bytes.NewReader(rawHeader()), errReader{boom}), DefaultLimits())
	if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Errorf("Decode(read error) = %v, want boom and not ErrMalformed", err)
	}
}

// TestDecodeDoesNotTrustLengths checks that lengths claimed by a short
// stream do not turn into allocations, even with generous limits.
func TestDecodeDoesNotTrustLengths(t *testing.T) {
	lim := Limits{MaxFrame: 1 << 30, MaxEvents: 1 << 30, MaxNames: 1 << 30, MaxNameLen: 1 << 16, MaxBytes: 1 << 40}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"events frame claims 1GiB", cat(rawHeader(), rawFrameLen('E', 1<<30-1<<30%RecordSize, make([]byte, 100)))},
		{"names frame claims 1GiB", cat(rawHeader(), rawFrameLen('N', 1<<30, cat(le32(1), le32(1<<28))))},
		{"names count claims 4G", cat(rawHeader(), rawFrame('N', le32(1), le32(0xffffffff), le16(1), []byte("a")))},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Decode(bytes.NewReader(tt.data), lim)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("Decode(%s) = nil error", tt.name)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("Decode(%s) allocated %d bytes, want < 1MiB", tt.name, got)
		}
	}
}

func TestStream(t *testing.T) {
	r := NewRecorder(4, 512, time.Now())
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Stream(ctx, r, &out, time.Millisecond) }()

	const n = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			id := r.Intern(fmt.Sprint("h", i%300))
			r.Emit(Event{Kind: KindMark, Name: id, Arg0: int64(i), Time: r.Now(), Fd: -1})
			if i%64 == 0 {
				r.Flush() // as a loop does before it blocks
				time.Sleep(10 * time.Microsecond)
			}
		}
		r.Flush()
	}()
	wg.Wait()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Stream = %v, want nil", err)
	}
	tr, err := Decode(&out, DefaultLimits())
	if err != nil {
		t.Fatalf("Decode(Stream output): %v", err)
	}
	for _, e := range tr.Events {
		if want := fmt.Sprint("h", e.Arg0%300); tr.Name(e.Name) != want || e.Seq != uint64(e.Arg0)+1 {
			t.Fatalf("event %+v: name %q seq %d, want %q seq %d", e, tr.Name(e.Name), e.Seq, want, e.Arg0+1)
		}
	}
	if got := uint64(len(tr.Events)) + tr.Dropped; got != n {
		t.Errorf("decoded %d + dropped %d = %d, want %d", len(tr.Events), tr.Dropped, got, n)
	}
	if tr.Dropped != r.Dropped() {
		t.Errorf("decoded Dropped = %d, recorder says %d", tr.Dropped, r.Dropped())
	}
	t.Logf("streamed %d events, %d dropped, %d bytes", len(tr.Events), tr.Dropped, out.Len())
}

func TestStreamAll(t *testing.T) {
	r0 := NewRecorder(0, 1<<12, time.Now())
	r1 := r0.ForLoop(1, 1<<12)
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- StreamAll(ctx, []*Recorder{r0, r1}, &out, time.Millisecond) }()

	const n = 2000
	var wg sync.WaitGroup
	for _, r := range []*Recorder{r0, r1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				id := r.Intern(fmt.Sprintf("loop%d-%d", r.Loop(), i%50))
				r.Emit(Event{Kind: KindMark, Name: id, Arg0: int64(i), Time: r.Now()})
				if i%100 == 0 {
					r.Flush() // as a loop does before it blocks
					time.Sleep(50 * time.Microsecond)
				}
			}
			r.Flush()
		}()
	}
	wg.Wait()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("StreamAll = %v, want nil", err)
	}
	tr, err := Decode(&out, DefaultLimits())
	if err != nil {
		t.Fatalf("Decode(StreamAll output): %v", err)
	}
	perLoop := map[uint16]int{}
	for _, e := range tr.Events {
		perLoop[e.Loop]++
		if want := fmt.Sprintf("loop%d-%d", e.Loop, e.Arg0%50); tr.Name(e.Name) != want {
			t.Fatalf("event %+v named %q, want %q", e, tr.Name(e.Name), want)
		}
	}
	if perLoop[0] != n || perLoop[1] != n || tr.Dropped != 0 {
		t.Errorf("events per loop = %v, dropped %d; want %d each, 0 dropped", perLoop, tr.Dropped, n)
	}
	if len(tr.Names) != 101 {
		t.Errorf("len(Names) = %d, want 101", len(tr.Names))
	}

	other := NewRecorder(2, 4, time.Now())
	if err := StreamAll(context.Background(), []*Recorder{r0, other}, io.Discard, time.Millisecond); err == nil {
		t.Error("StreamAll(recorders with separate name tables) = nil, want an error")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("pipe closed")
	}
	w.n--
	return len(p), nil
}

func TestEncoderErrorsAreSticky(t *testing.T) {
	enc := NewEncoder(&failWriter{n: 1})
	if err := enc.WriteHeader(); err != nil {
		t.Fatalf("WriteHeader: %v", err)
	}
	err := enc.WriteEvents([]Event{mark(1)})
	if err == nil || !strings.Contains(err.Error(), "trace: write events frame: pipe closed") {
		t.Errorf("WriteEvents on a failing writer = %v, want a wrapped error", err)
	}
	if err2 := enc.Close(); err2 != err {
		t.Errorf("Close after error = %v, want the first error %v", err2, err)
	}
	if err := Stream(context.Background(), NewRecorder(0, 4, time.Now()), &failWriter{}, time.Millisecond); err == nil {
		t.Error("Stream to a failing writer = nil, want an error")
	}
}

func FuzzDecode(f *testing.F) {
	valid := encodeTrace(f, sampleTrace())
	f.Add(valid)
	f.Add(cat(rawHeader(), rawEnd))
	f.Add(cat(rawHeader(), rawNames(1, "a", "b"), rawEvents(mark(1), Event{Seq: 2, Kind: KindSyscall, Name: 2, Dur: 5}), rawFrame('D', le64(2)), rawEnd))
	f.Add(cat(rawHeader(), rawNames(1, "connect", "epoll_wait"), rawEvents(
		Event{Seq: 1, Kind: KindSyscall, Phase: PhaseBegin, Name: 1, Fd: 7, Time: 3},
		Event{Seq: 2, Kind: KindReady, Name: 2, Fd: 7, Time: 4, Arg0: 4, Arg1: 5}), rawEnd))
	for _, n := range []int{0, 3, 5, 12, 13, 30, len(valid) / 2, len(valid) - 5, len(valid) - 1} {
		f.Add(valid[:n])
	}
	for _, i := range []int{0, 2, 6, 13, 14, 20, 40, 80, 200, len(valid) - 3} {
		b := bytes.Clone(valid)
		b[i] ^= 0x10
		f.Add(b)
	}
	lim := Limits{MaxFrame: 8 << 10, MaxEvents: 512, MaxNames: 64, MaxNameLen: 32, MaxBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), lim)
		tr, err := d.decodeAll()
		if d.off > lim.MaxBytes {
			t.Fatalf("decoder consumed %d bytes, limit %d", d.off, lim.MaxBytes)
		}
		if c := d.pay.Cap(); c > 2*lim.MaxFrame+bytes.MinRead {
			t.Fatalf("payload buffer grew to %d bytes, frame limit %d", c, lim.MaxFrame)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("Decode error %v (%T) is not a malformed/too-large DecodeError", err, err)
			}
			return
		}
		if len(tr.Events) > lim.MaxEvents || len(tr.Names) > lim.MaxNames {
			t.Fatalf("decoded %d events, %d names: over the limits", len(tr.Events), len(tr.Names))
		}
		for _, s := range tr.Names {
			if len(s) > lim.MaxNameLen || !validName(s) {
				t.Fatalf("decoded bad name %q", s)
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, tr); err != nil {
			t.Fatalf("Encode(decoded) = %v", err)
		}
		lim2 := lim
		lim2.MaxFrame = 0 // re-encoding may merge frames
		tr2, err := Decode(&buf, lim2)
		if err != nil {
			t.Fatalf("Decode(Encode(decoded)) = %v", err)
		}
		if diff := cmp.Diff(tr, tr2); diff != "" {
			t.Fatalf("re-decoded trace differs (-first +second):\n%s", diff)
		}
	})
}
