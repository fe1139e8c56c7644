package trace

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestNewRecorderSize(t *testing.T) {
	for _, tt := range []struct {
		size, want int
	}{
		{-1, 1 << 16},
		{0, 1 << 16},
		{1, 1},
		{3, 4},
		{4, 4},
		{1000, 1024},
	} {
		if got := NewRecorder(0, tt.size, time.Now()).Cap(); got != tt.want {
			t.Errorf("NewRecorder(0, %d, now).Cap() = %d, want %d", tt.size, got, tt.want)
		}
	}
}

func TestRecorderOrderAndSeq(t *testing.T) {
	r := NewRecorder(3, 8, time.Now())
	for i := range 5 {
		r.Emit(Event{Kind: KindMark, Time: int64(i * 10), Arg0: int64(i)})
	}
	r.Flush()
	got := r.Drain(nil)
	var want []Event
	for i := range 5 {
		want = append(want, Event{Seq: uint64(i + 1), Loop: 3, Kind: KindMark, Time: int64(i * 10), Arg0: int64(i)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Drain after 5 Emits (-want +got):\n%s", diff)
	}
	if got := r.Drain(nil); len(got) != 0 {
		t.Errorf("second Drain = %d events, want 0", len(got))
	}
}

func TestRecorderWraparound(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	var got []Event
	// 3 events per round against a 4-slot ring: the indexes wrap many times
	// and every drain but the first crosses the end of the slice.
	for round := range 10 {
		for i := range 3 {
			r.Emit(Event{Kind: KindMark, Arg0: int64(round*3 + i)})
		}
		r.Flush()
		got = r.Drain(got)
	}
	if len(got) != 30 {
		t.Fatalf("Drain over 10 rounds = %d events, want 30", len(got))
	}
	for i, e := range got {
		if e.Seq != uint64(i+1) || e.Arg0 != int64(i) {
			t.Errorf("event %d = seq %d arg %d, want seq %d arg %d", i, e.Seq, e.Arg0, i+1, i)
		}
	}
	if got := r.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0", got)
	}
}

func TestRecorderFullDropsAndCounts(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	for i := range 7 {
		r.Emit(Event{Kind: KindMark, Arg0: int64(i)})
	}
	if got := r.Dropped(); got != 3 {
		t.Errorf("Dropped() after 7 Emits into 4 slots = %d, want 3", got)
	}
	// The first drop published the stored events, so no Flush is needed.
	got := r.Drain(nil)
	if len(got) != 4 {
		t.Fatalf("Drain = %d events, want 4", len(got))
	}
	// Drops consume sequence numbers, so the next stored event shows a gap.
	r.Emit(Event{Kind: KindMark, Arg0: 7})
	r.Flush()
	got = r.Drain(got)
	var seqs []uint64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3, 4, 8}, seqs); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
}

// TestRecorderPublish checks when the reader sees what the owner emitted:
// after the owner's Flush, or once a batch of publishBatch events is
// waiting, and not before.
func TestRecorderPublish(t *testing.T) {
	r := NewRecorder(0, 1024, time.Now())
	r.Emit(Event{Kind: KindMark})
	if got := r.Drain(nil); len(got) != 0 {
		t.Errorf("Drain after Emit without Flush = %d events, want 0", len(got))
	}
	r.Flush()
	if got := r.Drain(nil); len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("Drain after Flush = %+v, want the event with seq 1", got)
	}
	for range publishBatch - 1 {
		r.Emit(Event{Kind: KindMark})
	}
	if got := r.Drain(nil); len(got) != 0 {
		t.Errorf("Drain after %d Emits = %d events, want 0", publishBatch-1, len(got))
	}
	r.Emit(Event{Kind: KindMark})
	got := r.Drain(nil)
	if len(got) != publishBatch {
		t.Fatalf("Drain after %d Emits = %d events, want %d", publishBatch, len(got), publishBatch)
	}
	if first, last := got[0].Seq, got[len(got)-1].Seq; first != 2 || last != publishBatch+1 {
		t.Errorf("batch seqs = %d..%d, want 2..%d", first, last, publishBatch+1)
	}
	r.Flush() // nothing new: publishes nothing
	if got := r.Drain(nil); len(got) != 0 {
		t.Errorf("Drain after an empty Flush = %d events, want 0", len(got))
	}
}

func TestRecorderDisabled(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	r.SetEnabled(false)
	if r.Enabled() {
		t.Fatal("Enabled() = true after SetEnabled(false)")
	}
	r.Emit(Event{Kind: KindMark})
	r.EmitForeign(Event{Kind: KindMark})
	r.Flush()
	r.SetEnabled(true)
	r.Emit(Event{Kind: KindMark})
	r.Flush()
	got := r.Drain(nil)
	if len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("Drain = %+v, want one event with seq 1", got)
	}
}

func TestRecorderForeign(t *testing.T) {
	r := NewRecorder(2, 16, time.Now())
	r.Emit(Event{Kind: KindMark, Time: 100})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.EmitForeign(Event{Kind: KindLint, Time: 50, Arg0: int64(LintOffLoop)})
	}()
	wg.Wait()
	if got := r.Drain(nil); len(got) != 0 {
		t.Fatalf("Drain before Flush = %d events, want 0", len(got))
	}
	r.Flush()
	got := r.Drain(nil)
	want := []Event{
		{Seq: 1, Loop: 2, Kind: KindMark, Time: 100},
		{Seq: 2, Loop: 2, Kind: KindLint, Time: 50, Arg0: int64(LintOffLoop)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Drain after Flush (-want +got):\n%s", diff)
	}
}

func TestRecorderForeignOverflow(t *testing.T) {
	r := NewRecorder(0, 4096, time.Now())
	for range foreignCap + 5 {
		r.EmitForeign(Event{Kind: KindMark})
	}
	if got := r.Dropped(); got != 5 {
		t.Errorf("Dropped() = %d, want 5", got)
	}
	r.Flush()
	r.Emit(Event{Kind: KindMark})
	r.Flush()
	got := r.Drain(nil)
	if len(got) != foreignCap+1 {
		t.Fatalf("Drain = %d events, want %d", len(got), foreignCap+1)
	}
	// The five lost foreign events are a gap before the flushed ones.
	if got[0].Seq != 6 {
		t.Errorf("first flushed seq = %d, want 6", got[0].Seq)
	}
	if last := got[len(got)-1].Seq; last != foreignCap+6 {
		t.Errorf("last seq = %d, want %d", last, foreignCap+6)
	}
}

// TestRecorderConcurrent runs the owner and the reader at once, under -race
// in CI. Every event carries its emit index in Arg0; since every emit takes
// a sequence number, a stored event must have Seq == Arg0+1, so a torn,
// duplicated or reordered slot shows up at once.
func TestRecorderConcurrent(t *testing.T) {
	const n = 200_000
	r := NewRecorder(1, 256, time.Now())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			r.Emit(Event{Kind: KindMark, Arg0: int64(i), Arg1: int64(i) * 3, Time: int64(i)})
			if i%1000 == 0 {
				r.Flush()
			}
			// In the first half, wait for the reader whenever the ring is
			// half full, so most events are stored; in the second half run
			// free, so the ring fills and drops.
			for i < n/2 && r.head-r.tail.Load() > 128 {
				runtime.Gosched()
			}
		}
	}()
	var got []Event
	buf := make([]Event, 0, 256)
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		buf = r.Drain(buf[:0])
		got = append(got, buf...)
	}
	// The owner has stopped (done is closed), so this goroutine may publish
	// the events it stored after its last publish.
	r.Flush()
	got = r.Drain(got)

	var last uint64
	for i, e := range got {
		if e.Seq <= last {
			t.Fatalf("event %d: seq %d after %d", i, e.Seq, last)
		}
		last = e.Seq
		if e.Seq != uint64(e.Arg0)+1 || e.Arg1 != e.Arg0*3 || e.Time != e.Arg0 || e.Loop != 1 {
			t.Fatalf("event %d = %+v, torn or misplaced", i, e)
		}
	}
	if total := uint64(len(got)) + r.Dropped(); total != n {
		t.Errorf("stored %d + dropped %d = %d, want %d", len(got), r.Dropped(), total, n)
	}
	t.Logf("stored %d, dropped %d", len(got), r.Dropped())
}

func TestRecorderZeroAllocs(t *testing.T) {
	r := NewRecorder(0, 1024, time.Now())
	id := r.Intern("read")
	for range 10 {
		r.Intern("read") // let the name reach the lock-free map
	}
	buf := make([]Event, 0, 2048)
	ev := Event{Kind: KindSyscall, Name: id, Fd: 3, Res: 10, Dur: 100}
	for _, tt := range []struct {
		name string
		fn   func()
	}{
		{"Emit", func() {
			r.Emit(ev)
			if r.head-r.tail.Load() > 512 {
				buf = r.Drain(buf[:0])
			}
		}},
		{"Emit full ring", func() { r.Emit(ev) }},
		{"Flush empty", r.Flush},
		{"Emit+Flush", func() { r.Emit(ev); r.Flush(); buf = r.Drain(buf[:0]) }},
		{"EmitForeign+Flush", func() { r.EmitForeign(ev); r.Flush(); buf = r.Drain(buf[:0]) }},
		{"Intern existing", func() { _ = r.Intern("read") }},
		{"Now", func() { _ = r.Now() }},
	} {
		if got := testing.AllocsPerRun(1000, tt.fn); got != 0 {
			t.Errorf("AllocsPerRun(%s) = %v, want 0", tt.name, got)
		}
	}
}

func TestIntern(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	long := strings.Repeat("é", 200) // 400 bytes, 2 per rune
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"", ""},
		{"read", "read"},
		{long, strings.Repeat("é", 128)},
		{strings.Repeat("a", 255) + "é", strings.Repeat("a", 255)},
		{"bad\xffname", "bad\uFFFDname"},
		{"line\nbreak", "line\uFFFDbreak"},
		{"del\x7f", "del\uFFFD"},
		{"c1\u0085", "c1\uFFFD"},
	} {
		id := r.Intern(tt.in)
		if got := r.Name(id); got != tt.want {
			t.Errorf("Name(Intern(%.20q)) = %.20q, want %.20q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(r.Name(id)) || len(r.Name(id)) > MaxNameLen {
			t.Errorf("Intern(%.20q) stored an invalid name %q", tt.in, r.Name(id))
		}
		if again := r.Intern(tt.in); again != id {
			t.Errorf("Intern(%.20q) twice = %d then %d, want equal", tt.in, id, again)
		}
	}
	if got := r.Intern(""); got != 0 {
		t.Errorf(`Intern("") = %d, want 0`, got)
	}
	if got := r.Intern("bad\xfename"); got != r.Intern("bad\uFFFDname") {
		t.Errorf("two names that clean to the same text got different ids")
	}
}

func TestInternCap(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	for i := 1; i < MaxNames-1; i++ {
		if got := r.Intern(fmt.Sprint("n", i)); got != NameID(i) {
			t.Fatalf("Intern(n%d) = %d, want %d", i, got, i)
		}
	}
	for _, s := range []string{"one more", "and another"} {
		if got := r.Intern(s); got != TooManyNames {
			t.Errorf("Intern(%q) on a full table = %d, want TooManyNames", s, got)
		}
	}
	if got := r.Name(TooManyNames); got != tooManyNamesText {
		t.Errorf("Name(TooManyNames) = %q, want %q", got, tooManyNamesText)
	}
	if got := r.Intern("n7"); got != 7 {
		t.Errorf("Intern(n7) on a full table = %d, want 7", got)
	}
	names := r.NamesSince(0)
	if len(names) != MaxNames {
		t.Errorf("len(NamesSince(0)) = %d, want %d", len(names), MaxNames)
	}
	if got := r.NamesSince(MaxNames - 2); len(got) != 2 {
		t.Errorf("NamesSince(MaxNames-2) = %q, want 2 names", got)
	}
}

func TestInternConcurrent(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	var wg sync.WaitGroup
	ids := make([][]NameID, 4)
	for g := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				ids[g] = append(ids[g], r.Intern(fmt.Sprint("name-", i%500)))
			}
		}()
	}
	wg.Wait()
	for g := 1; g < len(ids); g++ {
		if diff := cmp.Diff(ids[0], ids[g]); diff != "" {
			t.Fatalf("goroutine %d saw different ids (-g0 +g%d):\n%s", g, g, diff)
		}
	}
	if got := len(r.NamesSince(0)); got != 501 {
		t.Errorf("len(NamesSince(0)) = %d, want 501", got)
	}
	for i := range 500 {
		s := fmt.Sprint("name-", i)
		if got := r.Name(r.Intern(s)); got != s {
			t.Errorf("Name(Intern(%q)) = %q", s, got)
		}
	}
}

func TestSnapshot(t *testing.T) {
	r := NewRecorder(0, 16, time.Now())
	id := r.Intern("h")
	r.Emit(Event{Kind: KindHandler, Phase: PhaseBegin, Name: id})
	r.Emit(Event{Kind: KindHandler, Phase: PhaseEnd, Name: id, Time: 5, Dur: 5})
	got := r.Snapshot()
	want := &Trace{Version: Version, Names: []string{"", "h"}, Events: []Event{
		{Seq: 1, Kind: KindHandler, Phase: PhaseBegin, Name: id},
		{Seq: 2, Kind: KindHandler, Phase: PhaseEnd, Name: id, Time: 5, Dur: 5},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Snapshot() (-want +got):\n%s", diff)
	}
}

func TestNowMonotonic(t *testing.T) {
	r := NewRecorder(0, 4, time.Now())
	a := r.Now()
	time.Sleep(time.Millisecond)
	if b := r.Now(); b <= a || a < 0 {
		t.Errorf("Now() = %d then %d, want increasing and >= 0", a, b)
	}
}

func BenchmarkEmit(b *testing.B) {
	r := NewRecorder(0, 1<<16, time.Now())
	ev := Event{Kind: KindSyscall, Name: r.Intern("read"), Fd: 3, Res: 10, Dur: 100}
	buf := make([]Event, 0, 1<<16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Time = int64(i)
		r.Emit(ev)
		if i&1023 == 1023 {
			// Amortised drain cost is included; the ring never fills.
			buf = r.Drain(buf[:0])
		}
	}
	if r.Dropped() != 0 {
		b.Fatalf("dropped %d", r.Dropped())
	}
}

func BenchmarkEmitWithNow(b *testing.B) {
	r := NewRecorder(0, 1<<16, time.Now())
	ev := Event{Kind: KindSyscall, Name: r.Intern("read"), Fd: 3, Res: 10, Dur: 100}
	buf := make([]Event, 0, 1<<16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Time = r.Now()
		r.Emit(ev)
		if i&1023 == 1023 {
			buf = r.Drain(buf[:0])
		}
	}
}

func BenchmarkEmitFull(b *testing.B) {
	r := NewRecorder(0, 16, time.Now())
	ev := Event{Kind: KindSyscall, Fd: 3}
	for b.Loop() {
		r.Emit(ev)
	}
}

func BenchmarkEmitDisabled(b *testing.B) {
	r := NewRecorder(0, 16, time.Now())
	r.SetEnabled(false)
	ev := Event{Kind: KindSyscall, Fd: 3}
	for b.Loop() {
		r.Emit(ev)
	}
}

func BenchmarkInternExisting(b *testing.B) {
	r := NewRecorder(0, 16, time.Now())
	r.Intern("handler name")
	b.ReportAllocs()
	for b.Loop() {
		r.Intern("handler name")
	}
}

// emitLiteral emits the way the engine does: a composite literal built at
// the call site, most of its fields constant.
//
//go:noinline
func emitLiteral(r *Recorder, t int64, op uint64, name NameID) {
	r.Emit(Event{Kind: KindSubmit, Time: t, Op: op, Fd: 5, Name: name, Arg0: 3, Arg1: 128})
}

func BenchmarkEmitLiteral(b *testing.B) {
	r := NewRecorder(0, 1<<16, time.Now())
	id := r.Intern("read")
	buf := make([]Event, 0, 1<<16)
	for i := 0; b.Loop(); i++ {
		emitLiteral(r, int64(i), uint64(i), id)
		if i&1023 == 1023 {
			r.Flush()
			buf = r.Drain(buf[:0])
		}
	}
	if r.Dropped() != 0 {
		b.Fatalf("dropped %d", r.Dropped())
	}
}

func BenchmarkEmitLiteralDisabled(b *testing.B) {
	r := NewRecorder(0, 16, time.Now())
	r.SetEnabled(false)
	id := r.Intern("read")
	for i := 0; b.Loop(); i++ {
		emitLiteral(r, int64(i), uint64(i), id)
	}
}
