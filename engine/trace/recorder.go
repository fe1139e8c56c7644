package trace

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/cpu"
)

// Limits of a recorder's name table. A decoder with [DefaultLimits] accepts
// every table a [Recorder] can produce.
const (
	// MaxNames is the most names a table holds, counting the empty name 0.
	MaxNames = 1 << 16
	// MaxNameLen is the longest name in bytes; longer names are truncated at
	// a UTF-8 boundary.
	MaxNameLen = 256
	// TooManyNames is the id [Recorder.Intern] returns once the table is
	// full. Its name is "(too many names)".
	TooManyNames NameID = MaxNames - 1
)

const (
	tooManyNamesText = "(too many names)"
	defaultRingSize  = 1 << 16
	foreignCap       = 1024 // events queued by other goroutines between two Flush calls

	// publishBatch is how many events the owner stores before it publishes
	// them without waiting for Flush, so at most publishBatch-1 events are
	// ever stored but unpublished. Publishing is an atomic store, a full
	// barrier on amd64; once per batch it costs well under a nanosecond per
	// event.
	publishBatch = 64
)

// Recorder is one loop's trace recorder: a single-producer, single-consumer
// ring of fixed-size [Event] records, plus the run's name table.
//
// The methods belong to three parties:
//   - the owning loop thread calls [Recorder.Emit] and [Recorder.Flush];
//   - one reader goroutine calls [Recorder.Drain] and [Recorder.NamesSince]
//     (and [Stream] does this for you);
//   - any goroutine may call [Recorder.Intern], [Recorder.Name],
//     [Recorder.EmitForeign], [Recorder.Now], [Recorder.Dropped],
//     [Recorder.Enabled], [Recorder.SetEnabled], [Recorder.ForLoop],
//     [Recorder.Loop] and [Recorder.Cap];
//   - any goroutine may call [Recorder.Seal] once the owner is stuck for
//     good, to publish what the owner cannot.
//
// [Recorder.Snapshot] flushes and then drains, so it is for the owner
// itself, or for any one goroutine once the owner has stopped (after the
// loop's Run returned).
//
// Publishing: Emit stores the event in the ring but does not yet show it to
// the reader. The owner publishes what it stored, with one atomic store, in
// Flush (which a loop calls once per turn and before it blocks), whenever
// publishBatch (64) events are waiting, and before it drops an event for
// want of room. Drain therefore sees an event after the owner's next Flush
// or batch publish, never before, and never a partly written one.
//
// Sequence numbers: Emit gives every event it accepts while enabled the next
// per-loop number, starting at 1, whether the event is stored or dropped. A
// gap in Seq therefore marks exactly where, and how many, events were lost.
// Events lost from the foreign queue are added to the count at the next
// Flush, so they show up as a gap just before the flushed foreign events.
// [Recorder.Dropped] is the total of all lost events; a loss after the last
// stored event is counted there but cannot show as a gap.
type Recorder struct {
	enabled atomic.Bool
	sealed  atomic.Bool // see Seal; written under stateMu
	stateMu sync.Mutex  // orders SetEnabled and Seal
	loop    uint16
	start   time.Time
	ring    []Event
	mask    uint64

	_ cpu.CacheLinePad
	// Owner-only state: written on every Emit, never read by the reader.
	head      uint64  // next slot to fill
	pubHead   uint64  // the owner's copy of pub
	seq       uint64  // last sequence number handed out
	tailCache uint64  // the owner's last view of tail, to avoid touching the reader's line
	fbuf      []Event // foreign events being moved by Flush
	_         cpu.CacheLinePad
	pub       atomic.Uint64 // head as last published; stored only by the owner
	_         cpu.CacheLinePad
	tail      atomic.Uint64 // next slot to read; stored only by the reader
	_         cpu.CacheLinePad
	dropped   atomic.Uint64

	fpending atomic.Bool // foreign events or losses wait for Flush
	fmu      sync.Mutex
	fqueue   []Event // guarded by fmu
	flost    uint64  // foreign events dropped since the last Flush; guarded by fmu

	names *nameTable // shared by the recorders of one run; see ForLoop
}

// NewRecorder returns an enabled recorder for loop whose ring holds size
// events, rounded up to a power of two (1<<16 when size <= 0). Times are
// measured from start, which should come from [time.Now] so that it carries
// the monotonic clock.
func NewRecorder(loop uint16, size int, start time.Time) *Recorder {
	return newRecorder(loop, size, start, newNameTable())
}

// ForLoop returns a recorder for another loop of the same run: it shares
// r's start time and name table, so the events of both can go into one
// stream (see [StreamAll]) and one [Trace]. size is as for [NewRecorder].
func (r *Recorder) ForLoop(loop uint16, size int) *Recorder {
	return newRecorder(loop, size, r.start, r.names)
}

func newRecorder(loop uint16, size int, start time.Time, names *nameTable) *Recorder {
	if size <= 0 {
		size = defaultRingSize
	}
	n := 1
	for n < size {
		n <<= 1
	}
	r := &Recorder{
		loop:   loop,
		start:  start,
		ring:   make([]Event, n),
		mask:   uint64(n - 1),
		fbuf:   make([]Event, 0, foreignCap),
		fqueue: make([]Event, 0, foreignCap),
		names:  names,
	}
	r.enabled.Store(true)
	return r
}

// Loop returns the loop id the recorder writes into every event.
func (r *Recorder) Loop() uint16 { return r.loop }

// Cap returns the number of events the ring holds.
func (r *Recorder) Cap() int { return len(r.ring) }

// Now returns the monotonic time in nanoseconds since the recorder's start.
// It is safe for concurrent use.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Enabled reports whether Emit records events.
func (r *Recorder) Enabled() bool { return r.enabled.Load() }

// SetEnabled turns recording on or off. While off, Emit and EmitForeign
// return at once and consume no sequence numbers. A sealed recorder stays
// off. It is safe for concurrent use.
func (r *Recorder) SetEnabled(on bool) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	if !r.sealed.Load() {
		r.enabled.Store(on)
	}
}

// sealGrace is how long Seal gives an owner that was in the middle of Emit
// or Flush when recording stopped to finish: those take well under a
// microsecond when the owner is not descheduled inside them.
const sealGrace = 2 * time.Millisecond

// Seal publishes everything the recorder holds on behalf of an owner that is
// stuck in a call it may never return from (a stalled or deadlocked loop),
// when the process is about to end with the trace it has: events queued by
// [Recorder.EmitForeign] (such as the watchdog's own lint) cannot reach the
// reader until the owner's next Flush, which will not come. Seal turns
// recording off for good (Emit, EmitForeign and Flush do nothing from then
// on, and SetEnabled cannot turn it back on), gives an Emit or Flush the
// owner may be in the middle of sealGrace to finish, then moves the queued
// events into the ring and publishes every stored event, as Flush would.
// The next Drain sees them all. An owner descheduled inside Emit for longer
// than sealGrace is the one case it cannot cover. Any goroutine may call
// it; only the first call does anything.
func (r *Recorder) Seal() {
	r.stateMu.Lock()
	if r.sealed.Load() {
		r.stateMu.Unlock()
		return
	}
	r.sealed.Store(true)
	r.enabled.Store(false)
	r.stateMu.Unlock()
	time.Sleep(sealGrace)
	if r.fpending.Load() {
		r.moveForeign()
	}
	r.publish()
}

// Emit records e, setting its Seq and Loop; the caller sets Time (usually
// from [Recorder.Now]). Only the owning loop thread may call it. It never
// blocks, locks or allocates: when the reader has fallen a full ring behind,
// the event is dropped and counted. The reader sees the event after the
// owner's next [Recorder.Flush], or sooner when a batch of events is
// published.
func (r *Recorder) Emit(e Event) {
	// Kept tiny so that the disabled check inlines into the caller. e goes
	// to emit by value: passing &e makes the inlined caller copy the event
	// before the check, which costs even when recording is off.
	if r.enabled.Load() {
		r.emit(e)
	}
}

func (r *Recorder) emit(e Event) {
	r.seq++
	h := r.head
	if h-r.tailCache >= uint64(len(r.ring)) {
		// Let the reader see every stored event before giving up on this
		// one: a drop must mean the reader is behind, not that it was shown
		// too little.
		r.publish()
		r.tailCache = r.tail.Load()
		if h-r.tailCache >= uint64(len(r.ring)) {
			r.dropped.Add(1)
			return
		}
	}
	slot := &r.ring[h&r.mask]
	// Field by field rather than *slot = e: the caller wrote e with
	// overlapping 16-byte stores, and reading it back in 16-byte pieces
	// stalls on store forwarding (about 4 ns per event).
	slot.Seq, slot.Time, slot.Dur, slot.Op = r.seq, e.Time, e.Dur, e.Op
	slot.Res, slot.Arg0, slot.Arg1 = e.Res, e.Arg0, e.Arg1
	slot.Fd, slot.Name, slot.Loop, slot.Kind, slot.Phase = e.Fd, e.Name, r.loop, e.Kind, e.Phase
	r.head = h + 1
	if r.head-r.pubHead >= publishBatch {
		r.publish()
	}
}

// publish shows the reader every slot the owner has filled.
func (r *Recorder) publish() {
	if r.head != r.pubHead {
		r.pubHead = r.head
		// The atomic store orders the plain slot writes before it (release):
		// a reader that loads pub sees complete slots.
		r.pub.Store(r.head)
	}
}

// EmitForeign records e from a goroutine other than the loop's own: it is
// queued and moved into the ring, keeping its own Time, by the owner's next
// [Recorder.Flush]. It is safe for concurrent use. When the queue is full
// the event is dropped and counted.
func (r *Recorder) EmitForeign(e Event) {
	if !r.enabled.Load() {
		return
	}
	r.fmu.Lock()
	if len(r.fqueue) < cap(r.fqueue) {
		r.fqueue = append(r.fqueue, e)
	} else {
		r.flost++
		r.dropped.Add(1)
	}
	r.fpending.Store(true)
	r.fmu.Unlock()
}

// Flush moves events queued by [Recorder.EmitForeign] into the ring and
// publishes every stored event to the reader. Only the owning loop thread
// may call it: once per loop iteration, and before the loop blocks, so that
// the reader sees all of a turn's events while the loop waits. When nothing
// is queued it costs two atomic loads, plus one atomic store if events were
// stored since the last publish. After [Recorder.Seal] it does nothing.
func (r *Recorder) Flush() {
	if r.sealed.Load() {
		return // Seal has published for good
	}
	if r.fpending.Load() {
		r.moveForeign()
	}
	r.publish()
}

func (r *Recorder) moveForeign() {
	r.fmu.Lock()
	r.fqueue, r.fbuf = r.fbuf[:0], r.fqueue
	lost := r.flost
	r.flost = 0
	r.fpending.Store(false)
	r.fmu.Unlock()

	r.seq += lost
	for i := range r.fbuf {
		r.emit(r.fbuf[i])
	}
	clear(r.fbuf) // keep no stale events around
	r.fbuf = r.fbuf[:0]
}

// Drain appends every event the owner has published since the last Drain to
// dst and returns it. Only the reader goroutine may call it. Events the
// owner stored after its last publish (see [Recorder]) wait for the next.
func (r *Recorder) Drain(dst []Event) []Event {
	t := r.tail.Load()
	h := r.pub.Load() // acquire: the slots before h are complete
	if h == t {
		return dst
	}
	size := uint64(len(r.ring))
	from := t & r.mask
	n := h - t
	if first := min(n, size-from); first > 0 {
		dst = append(dst, r.ring[from:from+first]...)
		n -= first
	}
	if n > 0 {
		dst = append(dst, r.ring[:n]...)
	}
	// Release the slots to the owner only after they are copied.
	r.tail.Store(h)
	return dst
}

// Dropped returns the number of events lost so far because the ring or the
// foreign queue was full. It is safe for concurrent use.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Snapshot flushes and drains the ring and returns the name table and the
// drained events as a [Trace]. Because it flushes, only the owner may call
// it, or any goroutine once the owner has stopped emitting (after the
// loop's Run returned); a reader running alongside a live owner uses
// [Recorder.Drain]. It is a convenience, mainly for tests.
func (r *Recorder) Snapshot() *Trace {
	r.Flush()
	// Events first: every name they reference was interned before they were
	// published, so the names read afterwards cover them.
	evs := r.Drain(nil)
	return &Trace{Version: Version, Names: r.NamesSince(0), Events: evs, Dropped: r.Dropped()}
}

// Intern returns the id of s in the name table, adding it if needed. Names
// longer than [MaxNameLen] are truncated at a UTF-8 boundary; invalid UTF-8
// and control characters are replaced by U+FFFD, so that every name passes
// the decoder. Once the table is full it returns [TooManyNames]. The empty
// string is always 0. It is safe for concurrent use; looking up a name that
// is already in the table takes no lock and does not allocate.
func (r *Recorder) Intern(s string) NameID {
	if s == "" {
		return 0
	}
	if len(s) > MaxNameLen {
		s = truncateName(s, MaxNameLen)
	}
	if id, ok := (*r.names.read.Load())[s]; ok {
		return id
	}
	return r.names.slowIntern(s)
}

// Name returns the string for id, or "" if id is not in the table. It is
// safe for concurrent use.
func (r *Recorder) Name(id NameID) string {
	r.names.mu.Lock()
	defer r.names.mu.Unlock()
	if int(id) < len(r.names.list) {
		return r.names.list[id]
	}
	return ""
}

// NamesSince returns a copy of the names whose ids are n and above, in id
// order. It is safe for concurrent use.
func (r *Recorder) NamesSince(n int) []string {
	r.names.mu.Lock()
	defer r.names.mu.Unlock()
	if n < 0 {
		n = 0
	}
	if n >= len(r.names.list) {
		return nil
	}
	return slices.Clone(r.names.list[n:])
}

// nameTable maps names to ids. Lookups read an immutable map through an
// atomic pointer. New names go to a dirty map under the mutex; after as many
// lookups have had to take the mutex as the table has names, the dirty map
// is merged into a new immutable map. Copying costs O(names) at most once
// per O(names) slow lookups, so interning stays amortised O(1) even for a
// full table (the same idea as sync.Map, without boxing the key).
type nameTable struct {
	read atomic.Pointer[map[string]NameID]

	mu     sync.Mutex
	list   []string          // by id; list[0] == ""
	dirty  map[string]NameID // names not yet in read
	misses int
}

func newNameTable() *nameTable {
	t := &nameTable{list: []string{""}, dirty: map[string]NameID{}}
	m := map[string]NameID{"": 0}
	t.read.Store(&m)
	return t
}

func (t *nameTable) slowIntern(s string) NameID {
	t.mu.Lock()
	defer t.mu.Unlock()
	read := *t.read.Load()
	if id, ok := read[s]; ok {
		return id
	}
	if id, ok := t.dirty[s]; ok {
		t.missed(read)
		return id
	}
	if !validName(s) {
		// Map only the cleaned name; the raw one stays on this slow path.
		s = cleanName(s)
		if id, ok := read[s]; ok {
			return id
		}
		if id, ok := t.dirty[s]; ok {
			t.missed(read)
			return id
		}
	}
	if len(t.list) >= MaxNames-1 {
		if len(t.list) == MaxNames-1 {
			t.list = append(t.list, tooManyNamesText)
		}
		return TooManyNames
	}
	id := NameID(len(t.list))
	s = strings.Clone(s) // the caller's string may alias a reused buffer
	t.list = append(t.list, s)
	t.dirty[s] = id
	return id
}

// missed counts a lookup that had to take the mutex and promotes the dirty
// map once such lookups have paid for the copy.
func (t *nameTable) missed(read map[string]NameID) {
	t.misses++
	if t.misses < len(read)+len(t.dirty) {
		return
	}
	m := make(map[string]NameID, len(read)+len(t.dirty))
	for k, v := range read {
		m[k] = v
	}
	for k, v := range t.dirty {
		m[k] = v
	}
	t.read.Store(&m)
	t.dirty = map[string]NameID{}
	t.misses = 0
}

// truncateName cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncateName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	// Back up over continuation bytes; a rune is at most 4 bytes, so an
	// invalid run of continuation bytes is cut at n-3 at worst.
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// validName reports whether s is valid UTF-8 without control characters,
// as the decoder requires of every name.
func validName(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if unicode.IsControl(r) {
			return false
		}
		i += size
	}
	return true
}

// cleanName replaces invalid UTF-8 and control characters in s with U+FFFD
// and truncates the result to MaxNameLen.
func cleanName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return truncateName(b.String(), MaxNameLen)
}
