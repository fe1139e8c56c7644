package trace

// traceBuilder builds hand-made traces for tests, numbering each loop's
// events and interning names as a recorder would.
type traceBuilder struct {
	t     Trace
	seq   map[uint16]uint64
	names map[string]NameID
}

func newTraceBuilder() *traceBuilder {
	return &traceBuilder{
		t:     Trace{Version: Version, Names: []string{""}},
		seq:   map[uint16]uint64{},
		names: map[string]NameID{"": 0},
	}
}

func ms(n float64) int64 { return int64(n * 1e6) }
func us(n float64) int64 { return int64(n * 1e3) }

func (b *traceBuilder) name(s string) NameID {
	if id, ok := b.names[s]; ok {
		return id
	}
	id := NameID(len(b.t.Names))
	b.t.Names = append(b.t.Names, s)
	b.names[s] = id
	return id
}

// add appends e, numbering it; name, if given, becomes e.Name.
func (b *traceBuilder) add(e Event, name ...string) *traceBuilder {
	b.seq[e.Loop]++
	e.Seq = b.seq[e.Loop]
	if len(name) > 0 {
		e.Name = b.name(name[0])
	}
	b.t.Events = append(b.t.Events, e)
	return b
}

func (b *traceBuilder) begin(loop uint16, at, ready int64, name string) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindHandler, Phase: PhaseBegin, Time: at, Arg0: ready, Fd: -1}, name)
}

func (b *traceBuilder) end(loop uint16, at, dur int64, name string) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindHandler, Phase: PhaseEnd, Time: at, Dur: dur, Fd: -1}, name)
}

func (b *traceBuilder) handler(loop uint16, ready, start, end int64, name string) *traceBuilder {
	return b.begin(loop, start, ready, name).end(loop, end, end-start, name)
}

func (b *traceBuilder) syscall(loop uint16, at, dur int64, name string, fd int32, res int64) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindSyscall, Time: at, Dur: dur, Fd: fd, Res: res}, name)
}

// sysBegin records that a syscall began; syscall with the same at records
// its return.
func (b *traceBuilder) sysBegin(loop uint16, at int64, name string, fd int32) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindSyscall, Phase: PhaseBegin, Time: at, Fd: fd}, name)
}

func (b *traceBuilder) ready(loop uint16, at int64, fd int32, mask, epfd int64) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindReady, Time: at, Fd: fd, Arg0: mask, Arg1: epfd}, "epoll_wait")
}

func (b *traceBuilder) submit(loop uint16, at int64, op uint64, opcode string, fd int32, flags int64) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindSubmit, Time: at, Op: op, Fd: fd, Arg0: flags}, opcode)
}

func (b *traceBuilder) complete(loop uint16, at int64, op uint64, opcode string, fd int32, res int64) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindComplete, Time: at, Op: op, Fd: fd, Res: res}, opcode)
}

func (b *traceBuilder) lint(loop uint16, at int64, code LintCode, msg string) *traceBuilder {
	return b.add(Event{Loop: loop, Kind: KindLint, Time: at, Arg0: int64(code), Fd: -1}, msg)
}

func (b *traceBuilder) trace() *Trace { return &b.t }

// seedHeadOfLine is the seed's burst: four handlers of 80, 40, 20 and 10 ms,
// all ready at t=0, run in that order on loop 0.
func seedHeadOfLine() *traceBuilder {
	b := newTraceBuilder()
	start := int64(0)
	for _, d := range []float64{80, 40, 20, 10} {
		name := "req-" + fmtDur(ms(d))
		b.handler(0, 0, start, start+ms(d), name)
		start += ms(d)
	}
	return b
}
