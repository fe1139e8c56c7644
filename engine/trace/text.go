package trace

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TextOptions controls [WriteText].
type TextOptions struct {
	MaxEvents int         // print at most this many events; 0 means all
	Kinds     []Kind      // print only these kinds; empty means all (findings are always printed)
	Lint      LintOptions // thresholds for the findings interleaved with the events
}

// WriteText writes t as a timeline for a terminal, one line per event:
//
//	      140.000ms L0  handler  > req-10ms  waited=140ms
//	!!    140.000ms L0  lint     head-of-line: "req-10ms" waited 140ms behind "req-80ms" (80ms)
//
// The columns are the time since the run started (ms, to the µs), the loop,
// the kind, the name (indented inside handler spans, ">" at a handler's
// begin and "<" at its end) and details: fd, op id, result (with the errno
// name for a negative result), duration. A syscall's begin says "begin", and
// "never returned" with how long before the trace ended if no record of its
// return follows; a ready event names its event mask ("EPOLLIN|EPOLLOUT")
// and the epoll fd. Findings from [Analyze] follow the event they are about,
// marked "!!", as are the live lint events. A summary line ends the output.
func WriteText(w io.Writer, t *Trace, opt TextOptions) error {
	bw := bufio.NewWriter(w)
	findings := Analyze(t, opt.Lint)

	// Attach each finding to the event it is about, or else to the last
	// event at or before its time.
	at := make(map[int][]Finding)
	index := make(map[[2]uint64]int, len(t.Events))
	for i, e := range t.Events {
		index[[2]uint64{uint64(e.Loop), e.Seq}] = i
	}
	for _, f := range findings {
		i, ok := index[[2]uint64{uint64(f.Loop), f.Seq}]
		if ok && t.Events[i].Kind == KindLint {
			continue // a live lint: its own line is marked
		}
		if !ok {
			i = -1
			for j, e := range t.Events {
				if e.Time <= f.Time {
					i = j
				}
			}
		}
		at[i] = append(at[i], f)
	}

	fmt.Fprintf(bw, "  %12s %-3s %-8s %s\n", "time", "lp", "kind", "event")
	writeFindings := func(fs []Finding) {
		for _, f := range fs {
			fmt.Fprintf(bw, "!!%12s L%-2d %-8s %s: %s\n", fmtTime(f.Time), f.Loop, "lint", f.Code, f.Message)
		}
	}
	writeFindings(at[-1])

	unfinished := map[int]bool{}
	for _, i := range t.UnfinishedSyscalls() {
		unfinished[i] = true
	}
	end := int64(0)
	for i := range t.Events {
		end = max(end, eventEnd(&t.Events[i]))
	}

	depth := map[uint16]int{}
	printed := 0
	for i, e := range t.Events {
		if opt.MaxEvents > 0 && printed >= opt.MaxEvents {
			fmt.Fprintf(bw, "  ... %d more events\n", len(t.Events)-i)
			break
		}
		d := depth[e.Loop]
		if e.Kind == KindHandler && e.Phase == PhaseEnd && d > 0 {
			d--
			depth[e.Loop] = d
		}
		if len(opt.Kinds) == 0 || slices.Contains(opt.Kinds, e.Kind) {
			marker := "  "
			if e.Kind == KindLint {
				marker = "!!"
			}
			desc := describe(t, &e)
			if unfinished[i] {
				desc += fmt.Sprintf(", never returned (%s until the trace ended)", fmtDur(end-e.Time))
			}
			fmt.Fprintf(bw, "%s%12s L%-2d %-8s %s%s\n", marker, fmtTime(e.Time), e.Loop, e.Kind,
				strings.Repeat("  ", d), desc)
			printed++
		}
		if e.Kind == KindHandler && e.Phase == PhaseBegin {
			depth[e.Loop] = d + 1
		}
		writeFindings(at[i])
	}
	fmt.Fprintf(bw, "-- %s\n", Summarize(t))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("trace: write text timeline: %w", err)
	}
	return nil
}

// describe returns the name and detail columns of one event.
func describe(t *Trace, e *Event) string {
	var b strings.Builder
	name := t.Name(e.Name)
	field := func(format string, args ...any) {
		b.WriteString("  ")
		fmt.Fprintf(&b, format, args...)
	}
	switch e.Kind {
	case KindHandler:
		switch e.Phase {
		case PhaseBegin:
			b.WriteString("> " + name)
			if e.Arg0 >= 0 && e.Arg0 < e.Time {
				field("waited=%s", fmtDur(e.Time-e.Arg0))
			}
		case PhaseEnd:
			b.WriteString("< " + name)
		default:
			b.WriteString(e.Phase.String() + " " + name)
		}
	case KindFuture, KindTimer:
		b.WriteString(e.Phase.String() + " " + name)
	case KindLint:
		code := LintCode(e.Arg0).String()
		if strings.HasPrefix(name, code+":") {
			b.WriteString(name) // the message already says what it is
		} else {
			b.WriteString(code + ": " + name)
		}
	case KindWakeup:
		if name == "" {
			name = "wakeup"
		}
		b.WriteString(name)
	default:
		b.WriteString(name)
	}
	if e.Fd >= 0 && (e.Fd > 0 || e.Kind == KindSyscall || e.Kind == KindSubmit || e.Kind == KindComplete || e.Kind == KindReady) {
		field("fd=%d", e.Fd)
	}
	if e.Op != 0 {
		field("op=%#x", e.Op)
	}
	switch e.Kind {
	case KindSyscall:
		if e.Phase == PhaseBegin {
			field("begin")
		} else {
			field("res=%s", fmtRes(e.Res))
		}
	case KindReady:
		field("ready=%s", EpollEvents(e.Arg0))
		field("epfd=%d", e.Arg1)
	case KindComplete, KindCancel:
		field("res=%s", fmtRes(e.Res))
	case KindWakeup:
		field("events=%d", e.Res)
	case KindCounter:
		field("value=%d", e.Res)
	case KindSubmit:
		if e.Arg0 != 0 {
			field("flags=%#x", e.Arg0)
		}
	case KindTimer:
		if e.Phase == PhaseCreate {
			field("deadline=%s", fmtTime(e.Arg0))
		}
	}
	if e.Dur > 0 {
		field("dur=%s", fmtDur(e.Dur))
	}
	return b.String()
}

// fmtTime formats ns since the run started as milliseconds to the µs.
func fmtTime(ns int64) string {
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 3, 64) + "ms"
}

// fmtDur formats a duration compactly: "140ms", "1.235ms", "12.34µs".
func fmtDur(ns int64) string {
	d := time.Duration(ns)
	switch a := d.Abs(); {
	case a >= time.Second:
		d = d.Round(time.Millisecond)
	case a >= time.Millisecond:
		d = d.Round(time.Microsecond)
	case a >= time.Microsecond:
		d = d.Round(10 * time.Nanosecond)
	}
	return d.String()
}

// fmtRes formats a result, naming the errno of a negative one: "-EAGAIN".
func fmtRes(res int64) string {
	if s := errnoString(res); s != "" {
		return "-" + s
	}
	return strconv.FormatInt(res, 10)
}

// errnoString returns the errno name of a negative result, "EAGAIN" for
// -11, or "" if res is not a negative errno.
func errnoString(res int64) string {
	if res >= 0 || res < -4095 {
		return ""
	}
	if s := errnoName(-res); s != "" {
		return s
	}
	return "errno" + strconv.FormatInt(-res, 10)
}

// Summary counts what a trace holds.
type Summary struct {
	Wakeups, Syscalls, Submits, Completions, Handlers, Lints int
	Unfinished                                               int // syscalls that began and never returned, counted in Syscalls too
	Readiness                                                int // readiness notices (a completion event with no op)
	Ready                                                    int // fds an epoll_wait reported ready (KindReady)
	Dropped                                                  uint64
	Span                                                     int64 // ns from the first event to the end of the last
}

// wakeOp names the loop's own wakeup read on its ring (engine/names.go).
const wakeOp = "wake"

// Summarize counts the events of t by kind. Syscalls counts calls: their
// completed records plus the begins that never returned (Unfinished), so
// a call that returned counts once, not for its begin too. Handlers counts
// handler runs (their Begin events); Lints counts the live KindLint events.
func Summarize(t *Trace) Summary {
	s := Summary{Dropped: t.Dropped}
	var first, last int64
	for i, e := range t.Events {
		if i == 0 || e.Time < first {
			first = e.Time
		}
		last = max(last, eventEnd(&e))
		switch e.Kind {
		case KindWakeup:
			s.Wakeups++
		case KindSyscall:
			if e.Phase != PhaseBegin {
				s.Syscalls++
			}
		case KindReady:
			s.Ready++
		case KindSubmit:
			// The loop's own wakeup read on its ring is its machinery,
			// not an op of the program's.
			if t.Name(e.Name) != wakeOp {
				s.Submits++
			}
		case KindComplete:
			switch {
			case e.Op == 0:
				s.Readiness++ // "fd is readable": not an op's completion
			case t.Name(e.Name) == wakeOp:
			default:
				s.Completions++
			}
		case KindHandler:
			if e.Phase == PhaseBegin {
				s.Handlers++
			}
		case KindLint:
			s.Lints++
		}
	}
	if len(t.Events) > 0 {
		s.Span = last - first
	}
	s.Unfinished = len(t.UnfinishedSyscalls())
	s.Syscalls += s.Unfinished
	return s
}

// String returns the summary as one line, such as "5 wakeups, 9 syscalls,
// 3 submits, 1 completion, 4 handlers, 0 lints, 0 dropped, over 140ms".
func (s Summary) String() string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	syscalls := plural(s.Syscalls, "syscall", "syscalls")
	if s.Unfinished > 0 {
		syscalls += " (" + strconv.Itoa(s.Unfinished) + " never returned)"
	}
	parts := []string{
		plural(s.Wakeups, "wakeup", "wakeups"),
		syscalls,
		plural(s.Submits, "submit", "submits"),
		plural(s.Completions, "completion", "completions"),
	}
	if s.Readiness > 0 {
		parts = append(parts, plural(s.Readiness, "readiness notice", "readiness notices"))
	}
	if s.Ready > 0 {
		parts = append(parts, plural(s.Ready, "ready fd", "ready fds"))
	}
	return strings.Join(append(parts,
		plural(s.Handlers, "handler", "handlers"),
		plural(s.Lints, "lint", "lints"),
		strconv.FormatUint(s.Dropped, 10)+" dropped",
		"over "+fmtDur(s.Span),
	), ", ")
}

// eventEnd returns when e ended. An event spans [Time, Time+Dur], except
// the End of a span (a handler's), which is recorded when the span ends and
// carries the span's length in Dur.
func eventEnd(e *Event) int64 {
	if e.Phase == PhaseEnd {
		return e.Time
	}
	return max(e.Time, e.Time+e.Dur)
}

// ErrnoName returns the symbolic name of a Linux errno, such as
// "EINPROGRESS", or "" if it has none. Traces always come from Linux, so
// the numbers are Linux's on any platform.
func ErrnoName(errno int64) string { return errnoName(errno) }
