package trace

// The binary stream format, used on the pipe from a sandboxed child to the
// grader and for stored traces. All integers are little-endian.
//
//	stream  = header-frame { names-frame | events-frame | dropped-frame } end-frame
//	frame   = type:u8 length:u32 payload[length]
//
//	type 'H' header   "ALTR" version:u16 record-size:u16                (length 8)
//	type 'N' names    first-id:u32 count:u32 { len:u16 utf8[len] }*count
//	type 'E' events   record*  (length a non-zero multiple of RecordSize)
//	type 'D' dropped  total:u64   (the recorder's running total, never decreasing)
//	type 'Z' end      (length 0; nothing may follow)
//
//	record (RecordSize = 68 bytes, the Event fields in order):
//	  0 seq:u64   8 time:i64  16 dur:i64  24 op:u64   32 res:i64
//	 40 arg0:i64 48 arg1:i64  56 fd:i32   60 name:u32 64 loop:u16
//	 66 kind:u8  67 phase:u8
//
// Name 0 is always "" and is never sent; the first names frame starts at id 1
// and each later one at the next unused id. A names frame must come before
// any event that refers to its names. Empty names and events frames are not
// allowed, so an encoder writes nothing for an empty batch.
//
// The decoder treats its input as hostile: every length is checked against
// [Limits] before anything proportional to it is allocated, and every event
// is validated (kind, phase, name id, per-loop sequence, durations, and the
// fields a kind constrains: a syscall begin, a ready event).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Frame types.
const (
	frameHeader  = 'H'
	frameNames   = 'N'
	frameEvents  = 'E'
	frameDropped = 'D'
	frameEnd     = 'Z'
)

const (
	magic           = "ALTR"
	frameHeaderSize = 5
	// maxPayload is the largest payload the encoder writes, well inside the
	// default MaxFrame.
	maxPayload     = 256 << 10
	eventsPerFrame = maxPayload / RecordSize
)

// Sentinel error kinds returned (wrapped) by the decoder. Test with
// [errors.Is].
var (
	// ErrMalformed means the input breaks the format or the schema.
	ErrMalformed = errors.New("malformed trace")
	// ErrTooLarge means the input exceeds a [Limits] cap.
	ErrTooLarge = errors.New("trace too large")
)

// DecodeError is the error the decoder returns. It wraps a kind
// ([ErrMalformed], [ErrTooLarge] or none for a read error) and the cause,
// such as [io.ErrUnexpectedEOF] for truncated input.
type DecodeError struct {
	Frame  int   // index of the frame, the header being frame 0
	Offset int64 // byte offset of the frame in the stream
	Kind   error // ErrMalformed, ErrTooLarge, or nil
	Err    error // the underlying cause, if any
	Detail string
}

// Error returns "trace: frame N: detail[: cause]".
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("trace: frame %d: %s", e.Frame, e.Detail)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause, so that errors.Is matches either.
func (e *DecodeError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Encoder writes the binary stream format to an io.Writer, one Write call
// per frame. It is not safe for concurrent use. After the first error every
// method returns that error.
type Encoder struct {
	w   io.Writer
	buf []byte
	err error
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// WriteHeader writes the header frame. It must be the first frame.
func (e *Encoder) WriteHeader() error {
	b := e.begin(frameHeader)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, Version)
	b = binary.LittleEndian.AppendUint16(b, RecordSize)
	return e.end(b, "header")
}

// WriteNames writes names whose ids start at first, splitting them into
// frames of bounded size. It writes nothing when names is empty.
func (e *Encoder) WriteNames(first NameID, names []string) error {
	for len(names) > 0 && e.err == nil {
		b := e.begin(frameNames)
		b = binary.LittleEndian.AppendUint32(b, uint32(first))
		countAt := len(b)
		b = binary.LittleEndian.AppendUint32(b, 0)
		n := 0
		for n < len(names) {
			s := names[n]
			if len(s) > 0xffff {
				e.err = fmt.Errorf("trace: write names: name %d is %d bytes, more than 65535", int(first)+n, len(s))
				return e.err
			}
			if n > 0 && len(b)-frameHeaderSize+2+len(s) > maxPayload {
				break
			}
			b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
			n++
		}
		binary.LittleEndian.PutUint32(b[countAt:], uint32(n))
		if err := e.end(b, "names"); err != nil {
			return err
		}
		first += NameID(n)
		names = names[n:]
	}
	return e.err
}

// WriteEvents writes evs as one or more events frames. It writes nothing
// when evs is empty.
func (e *Encoder) WriteEvents(evs []Event) error {
	for len(evs) > 0 && e.err == nil {
		n := min(len(evs), eventsPerFrame)
		b := e.begin(frameEvents)
		for i := range evs[:n] {
			b = appendRecord(b, &evs[i])
		}
		if err := e.end(b, "events"); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return e.err
}

// WriteDropped writes the running total of events the recorder dropped.
func (e *Encoder) WriteDropped(total uint64) error {
	b := e.begin(frameDropped)
	b = binary.LittleEndian.AppendUint64(b, total)
	return e.end(b, "dropped count")
}

// Close writes the end frame. It does not close the underlying writer.
func (e *Encoder) Close() error {
	return e.end(e.begin(frameEnd), "end")
}

func (e *Encoder) begin(typ byte) []byte {
	b := append(e.buf[:0], typ, 0, 0, 0, 0)
	return b
}

func (e *Encoder) end(b []byte, what string) error {
	e.buf = b[:0]
	if e.err != nil {
		return e.err
	}
	binary.LittleEndian.PutUint32(b[1:], uint32(len(b)-frameHeaderSize))
	if _, err := e.w.Write(b); err != nil {
		e.err = fmt.Errorf("trace: write %s frame: %w", what, err)
	}
	return e.err
}

func appendRecord(b []byte, ev *Event) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, ev.Seq)
	b = le.AppendUint64(b, uint64(ev.Time))
	b = le.AppendUint64(b, uint64(ev.Dur))
	b = le.AppendUint64(b, ev.Op)
	b = le.AppendUint64(b, uint64(ev.Res))
	b = le.AppendUint64(b, uint64(ev.Arg0))
	b = le.AppendUint64(b, uint64(ev.Arg1))
	b = le.AppendUint32(b, uint32(ev.Fd))
	b = le.AppendUint32(b, uint32(ev.Name))
	b = le.AppendUint16(b, ev.Loop)
	return append(b, byte(ev.Kind), byte(ev.Phase))
}

func readRecord(b []byte) Event {
	le := binary.LittleEndian
	_ = b[RecordSize-1]
	return Event{
		Seq:   le.Uint64(b[0:]),
		Time:  int64(le.Uint64(b[8:])),
		Dur:   int64(le.Uint64(b[16:])),
		Op:    le.Uint64(b[24:]),
		Res:   int64(le.Uint64(b[32:])),
		Arg0:  int64(le.Uint64(b[40:])),
		Arg1:  int64(le.Uint64(b[48:])),
		Fd:    int32(le.Uint32(b[56:])),
		Name:  NameID(le.Uint32(b[60:])),
		Loop:  le.Uint16(b[64:]),
		Kind:  Kind(b[66]),
		Phase: Phase(b[67]),
	}
}

// Encode writes t as a complete stream: header, names, events, the dropped
// count when it is not zero, and the end frame.
func Encode(w io.Writer, t *Trace) error {
	if len(t.Names) > 0 && t.Names[0] != "" {
		return fmt.Errorf("trace: encode: name 0 is %q, want \"\"", t.Names[0])
	}
	enc := NewEncoder(w)
	if err := enc.WriteHeader(); err != nil {
		return err
	}
	if len(t.Names) > 1 {
		if err := enc.WriteNames(1, t.Names[1:]); err != nil {
			return err
		}
	}
	if err := enc.WriteEvents(t.Events); err != nil {
		return err
	}
	if t.Dropped > 0 {
		if err := enc.WriteDropped(t.Dropped); err != nil {
			return err
		}
	}
	return enc.Close()
}

// Stream is the body of a drain goroutine: every interval (20ms if every is
// not positive) it drains r and encodes what is new to w: first the names
// (so that they precede the events using them), then the events, then the
// dropped count when it has changed. When ctx is done it drains once more,
// writes the end frame and returns nil; it returns an error only if writing
// fails. Stop the loop that owns r before ending ctx, or its last events may
// miss the final drain.
func Stream(ctx context.Context, r *Recorder, w io.Writer, every time.Duration) error {
	return StreamAll(ctx, []*Recorder{r}, w, every)
}

// StreamAll is [Stream] for the recorders of several loops of one run, made
// with [Recorder.ForLoop] so that they share a name table. The dropped count
// written is their total.
func StreamAll(ctx context.Context, rs []*Recorder, w io.Writer, every time.Duration) error {
	if len(rs) == 0 {
		return errors.New("trace: stream: no recorders")
	}
	for _, r := range rs[1:] {
		if r.names != rs[0].names {
			return fmt.Errorf("trace: stream: the recorders of loops %d and %d do not share a name table; make one with ForLoop", rs[0].loop, r.loop)
		}
	}
	if every <= 0 {
		every = 20 * time.Millisecond
	}
	enc := NewEncoder(w)
	if err := enc.WriteHeader(); err != nil {
		return err
	}
	var (
		buf     []Event
		sent    = 1 // name 0 is implicit
		dropped uint64
	)
	flush := func() error {
		// Drain events before reading names: an event's name was interned
		// before the event was published, so this order never sends an event
		// whose name has not been sent.
		buf = buf[:0]
		var d uint64
		for _, r := range rs {
			buf = r.Drain(buf)
			d += r.Dropped()
		}
		if names := rs[0].NamesSince(sent); len(names) > 0 {
			if err := enc.WriteNames(NameID(sent), names); err != nil {
				return err
			}
			sent += len(names)
		}
		if err := enc.WriteEvents(buf); err != nil {
			return err
		}
		if d != dropped {
			dropped = d
			return enc.WriteDropped(d)
		}
		return nil
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := flush(); err != nil {
				return err
			}
			return enc.Close()
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// Limits bound what a [Decoder] accepts. A zero field takes its value from
// [DefaultLimits].
type Limits struct {
	MaxFrame   int   // largest frame payload in bytes
	MaxEvents  int   // most events in the stream
	MaxNames   int   // most names, counting name 0
	MaxNameLen int   // longest name in bytes
	MaxBytes   int64 // most bytes in the stream
}

// DefaultLimits returns limits that accept every stream a [Recorder] and
// [Stream] produce for a run of about a million events.
func DefaultLimits() Limits {
	return Limits{
		MaxFrame:   1 << 20,
		MaxEvents:  1 << 20,
		MaxNames:   MaxNames,
		MaxNameLen: MaxNameLen,
		MaxBytes:   128 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrame <= 0 {
		l.MaxFrame = d.MaxFrame
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = d.MaxEvents
	}
	if l.MaxNames <= 0 {
		l.MaxNames = d.MaxNames
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = d.MaxNameLen
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	return l
}

// Batch is what one frame of the stream adds to the trace.
type Batch struct {
	Names     []string // new names; the first has id FirstName
	FirstName NameID
	Events    []Event
	Dropped   uint64 // the recorder's running total of dropped events as of this batch
	End       bool   // the end frame was read; the next call to Next returns io.EOF
}

// Decoder reads the binary stream format strictly, within [Limits]. It is
// not safe for concurrent use.
type Decoder struct {
	r   *bufio.Reader
	lim Limits

	frame    int   // index of the current frame
	frameOff int64 // offset of the current frame
	off      int64 // bytes consumed
	started  bool
	ended    bool
	err      error

	names   int // names defined so far, counting name 0
	events  int
	dropped uint64
	lastSeq map[uint16]uint64
	pay     bytes.Buffer
}

// NewDecoder returns a decoder reading from r within lim.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	return &Decoder{
		r:       bufio.NewReaderSize(r, 32<<10),
		lim:     lim.withDefaults(),
		names:   1,
		lastSeq: make(map[uint16]uint64),
	}
}

// Next returns what the next frame adds to the trace. The header frame is
// read and checked on the first call. After the end frame it returns
// io.EOF, or an error if anything follows the end frame. Any other error is
// a [*DecodeError] and is returned again by every later call.
func (d *Decoder) Next() (Batch, error) {
	if d.err != nil {
		return Batch{}, d.err
	}
	if d.ended {
		d.frame++
		d.frameOff = d.off
		if _, err := d.r.ReadByte(); err == io.EOF {
			d.err = io.EOF
			return Batch{}, io.EOF
		} else if err != nil {
			return Batch{}, d.fail(nil, err, "read after end frame")
		}
		return Batch{}, d.fail(ErrMalformed, nil, "data after the end frame")
	}
	for {
		b, err := d.readFrame()
		if err != nil {
			return Batch{}, err
		}
		if b != nil {
			return *b, nil
		}
	}
}

// readFrame reads one frame. It returns nil, nil for the header frame.
// A frame's header and length are checked before any of its payload is
// read, and its payload before anything is decoded from it.
func (d *Decoder) readFrame() (*Batch, error) {
	if d.started {
		d.frame++
	}
	d.frameOff = d.off
	typ, n, err := d.readFrameHeader()
	if err != nil {
		return nil, err
	}
	name := frameNamesByType[typ]
	if err := d.checkFrame(typ, name, n); err != nil {
		return nil, err
	}
	p, err := d.readPayload(name, n)
	if err != nil {
		return nil, err
	}
	return d.decodeFrame(typ, p)
}

// readFrameHeader reads a frame's type and payload length.
func (d *Decoder) readFrameHeader() (typ byte, n int64, err error) {
	var hdr [frameHeaderSize]byte
	if n, err := io.ReadFull(d.r, hdr[:]); err != nil {
		switch {
		case err == io.EOF && !d.started:
			return 0, 0, d.fail(ErrMalformed, io.ErrUnexpectedEOF, "empty stream, want a header frame")
		case err == io.EOF:
			return 0, 0, d.fail(ErrMalformed, io.ErrUnexpectedEOF, "stream ends without an end frame")
		case err == io.ErrUnexpectedEOF:
			return 0, 0, d.fail(ErrMalformed, err, "truncated frame header (%d of %d bytes)", n, frameHeaderSize)
		default:
			return 0, 0, d.fail(nil, err, "read frame header")
		}
	}
	d.off += frameHeaderSize
	return hdr[0], int64(binary.LittleEndian.Uint32(hdr[1:])), nil
}

// checkFrame checks a frame's type, its place in the stream and its
// length against the type and the limits.
func (d *Decoder) checkFrame(typ byte, name string, n int64) error {
	switch {
	case name == "":
		return d.fail(ErrMalformed, nil, "unknown frame type 0x%02x", typ)
	case !d.started && typ != frameHeader:
		return d.fail(ErrMalformed, nil, "%s frame before the header", name)
	case d.started && typ == frameHeader:
		return d.fail(ErrMalformed, nil, "second header frame")
	case n > int64(d.lim.MaxFrame):
		return d.fail(ErrTooLarge, nil, "%s frame of %d bytes exceeds the %d-byte frame limit", name, n, d.lim.MaxFrame)
	case d.off+n > d.lim.MaxBytes:
		return d.fail(ErrTooLarge, nil, "stream exceeds the %d-byte limit", d.lim.MaxBytes)
	}
	switch typ {
	case frameHeader, frameDropped:
		if n != 8 {
			return d.fail(ErrMalformed, nil, "%s frame is %d bytes, want 8", name, n)
		}
	case frameEnd:
		if n != 0 {
			return d.fail(ErrMalformed, nil, "end frame is %d bytes, want 0", n)
		}
	case frameEvents:
		if n == 0 || n%RecordSize != 0 {
			return d.fail(ErrMalformed, nil, "events frame is %d bytes, not a non-zero multiple of %d", n, RecordSize)
		}
		if c := n / RecordSize; int64(d.events)+c > int64(d.lim.MaxEvents) {
			return d.fail(ErrTooLarge, nil, "more than %d events", d.lim.MaxEvents)
		}
	case frameNames:
		if n < 8+2 {
			return d.fail(ErrMalformed, nil, "names frame is %d bytes, too short for one name", n)
		}
	}
	return nil
}

// readPayload reads a frame's n bytes of payload as they arrive, so that
// a lying length on a short stream costs no more memory than the bytes
// really sent. The bytes are d's until the next frame.
func (d *Decoder) readPayload(name string, n int64) ([]byte, error) {
	d.pay.Reset()
	got, err := io.CopyN(&d.pay, d.r, n)
	d.off += got
	if err == io.EOF {
		return nil, d.fail(ErrMalformed, io.ErrUnexpectedEOF, "truncated %s frame (%d of %d bytes)", name, got, n)
	} else if err != nil {
		return nil, d.fail(nil, err, "read %s frame", name)
	}
	return d.pay.Bytes(), nil
}

// decodeFrame decodes a checked frame's payload p.
func (d *Decoder) decodeFrame(typ byte, p []byte) (*Batch, error) {
	switch typ {
	case frameHeader:
		if string(p[:4]) != magic {
			return nil, d.fail(ErrMalformed, nil, "bad magic %q, want %q", p[:4], magic)
		}
		if v := binary.LittleEndian.Uint16(p[4:]); v != Version {
			return nil, d.fail(ErrMalformed, nil, "schema version %d, want %d", v, Version)
		}
		if rs := binary.LittleEndian.Uint16(p[6:]); rs != RecordSize {
			return nil, d.fail(ErrMalformed, nil, "record size %d, want %d", rs, RecordSize)
		}
		d.started = true
		return nil, nil
	case frameNames:
		return d.parseNames(p)
	case frameEvents:
		return d.parseEvents(p)
	case frameDropped:
		v := binary.LittleEndian.Uint64(p)
		if v < d.dropped {
			return nil, d.fail(ErrMalformed, nil, "dropped count %d is below the previous %d", v, d.dropped)
		}
		d.dropped = v
		return &Batch{Dropped: v}, nil
	default: // frameEnd
		d.ended = true
		return &Batch{Dropped: d.dropped, End: true}, nil
	}
}

var frameNamesByType = map[byte]string{
	frameHeader:  "header",
	frameNames:   "names",
	frameEvents:  "events",
	frameDropped: "dropped",
	frameEnd:     "end",
}

func (d *Decoder) parseNames(p []byte) (*Batch, error) {
	le := binary.LittleEndian
	first, count := le.Uint32(p), le.Uint32(p[4:])
	if int64(first) != int64(d.names) {
		return nil, d.fail(ErrMalformed, nil, "names start at id %d, want %d", first, d.names)
	}
	if count == 0 {
		return nil, d.fail(ErrMalformed, nil, "names frame with no names")
	}
	if int64(d.names)+int64(count) > int64(d.lim.MaxNames) {
		return nil, d.fail(ErrTooLarge, nil, "more than %d names", d.lim.MaxNames)
	}
	// Each name takes at least its 2-byte length, which bounds count by the
	// payload already read before anything is allocated for it.
	rest := p[8:]
	if int64(count) > int64(len(rest)/2) {
		return nil, d.fail(ErrMalformed, nil, "names frame claims %d names in %d bytes", count, len(rest))
	}
	names := make([]string, 0, count)
	for i := range int(count) {
		id := int(first) + i
		if len(rest) < 2 {
			return nil, d.fail(ErrMalformed, nil, "name %d: truncated length", id)
		}
		l := int(le.Uint16(rest))
		rest = rest[2:]
		if l > d.lim.MaxNameLen {
			return nil, d.fail(ErrTooLarge, nil, "name %d is %d bytes, more than %d", id, l, d.lim.MaxNameLen)
		}
		if l > len(rest) {
			return nil, d.fail(ErrMalformed, nil, "name %d: %d bytes claimed, %d left in frame", id, l, len(rest))
		}
		s := string(rest[:l])
		rest = rest[l:]
		if !validName(s) {
			return nil, d.fail(ErrMalformed, nil, "name %d is not UTF-8 without control characters: %q", id, s)
		}
		names = append(names, s)
	}
	if len(rest) != 0 {
		return nil, d.fail(ErrMalformed, nil, "%d bytes after the last name", len(rest))
	}
	d.names += int(count)
	return &Batch{Names: names, FirstName: NameID(first), Dropped: d.dropped}, nil
}

func (d *Decoder) parseEvents(p []byte) (*Batch, error) {
	evs := make([]Event, len(p)/RecordSize)
	for i := range evs {
		e := readRecord(p[i*RecordSize:])
		switch {
		case !e.Kind.Valid():
			return nil, d.fail(ErrMalformed, nil, "event %d: invalid kind %d", i, uint8(e.Kind))
		case !e.Phase.Valid():
			return nil, d.fail(ErrMalformed, nil, "event %d: invalid phase %d", i, uint8(e.Phase))
		case int64(e.Name) >= int64(d.names):
			return nil, d.fail(ErrMalformed, nil, "event %d: name %d is not defined yet", i, e.Name)
		case e.Seq <= d.lastSeq[e.Loop]:
			return nil, d.fail(ErrMalformed, nil, "event %d: loop %d seq %d does not follow %d", i, e.Loop, e.Seq, d.lastSeq[e.Loop])
		case e.Dur < 0:
			return nil, d.fail(ErrMalformed, nil, "event %d: negative duration %d", i, e.Dur)
		case e.Time < 0:
			return nil, d.fail(ErrMalformed, nil, "event %d: negative time %d", i, e.Time)
		}
		if msg := checkFields(&e); msg != "" {
			return nil, d.fail(ErrMalformed, nil, "event %d: %s", i, msg)
		}
		d.lastSeq[e.Loop] = e.Seq
		evs[i] = e
	}
	d.events += len(evs)
	return &Batch{Events: evs, Dropped: d.dropped}, nil
}

// checkFields checks the fields that a kind constrains (see [Kind]) and
// says what is wrong, or returns "".
func checkFields(e *Event) string {
	switch e.Kind {
	case KindSyscall:
		switch e.Phase {
		case PhaseInstant:
		case PhaseBegin:
			if e.Dur != 0 || e.Res != 0 {
				return fmt.Sprintf("syscall begin with duration %d and result %d, want 0: the call has not returned", e.Dur, e.Res)
			}
		default:
			return fmt.Sprintf("syscall with phase %s, want instant or begin", e.Phase)
		}
	case KindReady:
		switch {
		case e.Phase != PhaseInstant:
			return fmt.Sprintf("ready with phase %s, want instant", e.Phase)
		case e.Dur != 0:
			return fmt.Sprintf("ready with duration %d, want 0", e.Dur)
		case e.Fd < -1:
			return fmt.Sprintf("ready on fd %d", e.Fd)
		case e.Arg0 < 0 || e.Arg0 > math.MaxUint32:
			return fmt.Sprintf("ready with event mask %#x, not a uint32", e.Arg0)
		case e.Arg1 < 0 || e.Arg1 > math.MaxInt32:
			return fmt.Sprintf("ready from epoll fd %d", e.Arg1)
		}
	}
	return ""
}

func (d *Decoder) fail(kind, cause error, format string, args ...any) error {
	d.err = &DecodeError{
		Frame:  d.frame,
		Offset: d.frameOff,
		Kind:   kind,
		Err:    cause,
		Detail: fmt.Sprintf(format, args...),
	}
	return d.err
}

// Decode reads a complete stream from r, up to and including the end frame,
// and checks that nothing follows it.
func Decode(r io.Reader, lim Limits) (*Trace, error) {
	return NewDecoder(r, lim).decodeAll()
}

func (d *Decoder) decodeAll() (*Trace, error) {
	t, err := d.decodePartial(nil)
	if err != nil {
		return nil, err
	}
	if _, err := d.Next(); err != io.EOF {
		return nil, err // something follows the end frame
	}
	return t, nil
}

// DecodePartial decodes a stream from r up to its end frame, handing each
// frame to batch (if not nil) as it is decoded, for a live display. On an
// error it returns what was well formed before it with the error: a run
// killed mid-stream leaves a trace without its end frame, and what came
// before is still worth showing. It does not read past the end frame.
func DecodePartial(r io.Reader, lim Limits, batch func(Batch)) (*Trace, error) {
	return NewDecoder(r, lim).decodePartial(batch)
}

func (d *Decoder) decodePartial(batch func(Batch)) (*Trace, error) {
	t := &Trace{Version: Version, Names: []string{""}}
	for {
		b, err := d.Next()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return t, err
		}
		t.Names = append(t.Names, b.Names...)
		t.Events = append(t.Events, b.Events...)
		t.Dropped = b.Dropped
		if batch != nil {
			batch(b)
		}
		if b.End {
			return t, nil
		}
	}
}
