package trace

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeTextLines(t *testing.T, tr *Trace, opt TextOptions) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteText(&buf, tr, opt); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// lineWith returns the index of the first line containing every token, or -1.
func lineWith(lines []string, tokens ...string) int {
	for i, l := range lines {
		ok := true
		for _, tok := range tokens {
			ok = ok && strings.Contains(l, tok)
		}
		if ok {
			return i
		}
	}
	return -1
}

func TestWriteText(t *testing.T) {
	b := seedHeadOfLine()
	// Inside the last handler: a read that fails with EAGAIN.
	b.t.Events = b.t.Events[:len(b.t.Events)-1]
	b.seq[0]--
	b.syscall(0, ms(141), us(3), "read", 7, -11).
		end(0, ms(150), ms(10), "req-10ms").
		add(Event{Kind: KindWakeup, Time: ms(151), Res: 2, Fd: -1}).
		lint(0, ms(152), LintOffLoop, "Submit called off the loop thread")
	lines := writeTextLines(t, b.trace(), TextOptions{})

	for _, tt := range []struct {
		name   string
		tokens []string
	}{
		{"handler begin", []string{"0.000ms", "L0", "handler", "> req-80ms"}},
		{"handler end", []string{"80.000ms", "handler", "< req-80ms", "dur=80ms"}},
		{"waited", []string{"140.000ms", "> req-10ms", "waited=140ms"}},
		{"errno name", []string{"141.000ms", "syscall", "read", "fd=7", "res=-EAGAIN", "dur=3µs"}},
		{"head-of-line finding", []string{"!!", "140.000ms", `head-of-line: "req-10ms" waited 140ms behind "req-80ms" (80ms)`}},
		{"long-handler finding", []string{"!!", "0.000ms", "long-handler", `"req-80ms" ran for 80ms`}},
		{"wakeup", []string{"151.000ms", "wakeup", "events=2"}},
		{"live lint", []string{"!!", "152.000ms", "off-loop: Submit called off the loop thread"}},
		{"summary", []string{"-- 1 wakeup, 1 syscall, 0 submits, 0 completions, 4 handlers, 1 lint, 0 dropped, over 152ms"}},
	} {
		if lineWith(lines, tt.tokens...) < 0 {
			t.Errorf("WriteText: no line with %q in:\n%s", tt.tokens, strings.Join(lines, "\n"))
		}
	}

	// Findings follow the event they are about.
	begin := lineWith(lines, "> req-10ms")
	if f := lineWith(lines, "!!", `"req-10ms" waited`); f != begin+1 {
		t.Errorf("head-of-line finding on line %d, want %d (right after the begin)", f, begin+1)
	}
	// The live lint is printed once, as its own marked line.
	if n := strings.Count(strings.Join(lines, "\n"), "Submit called off the loop thread"); n != 1 {
		t.Errorf("live lint printed %d times, want 1", n)
	}
	// The syscall inside the handler is indented one level deeper.
	read := lines[lineWith(lines, "res=-EAGAIN")]
	if !strings.Contains(read, "   read") || !strings.Contains(lines[begin], " > req-10ms") {
		t.Errorf("indentation: begin %q, inner %q", lines[begin], read)
	}
	// Times are right-aligned.
	if i, j := strings.Index(lines[begin], "ms "), strings.Index(lines[1], "ms "); i != j {
		t.Errorf("time column ends at %d and %d, want aligned", i, j)
	}
}

func TestWriteTextOptions(t *testing.T) {
	tr := seedHeadOfLine().syscall(0, ms(200), us(1), "write", 3, 5).trace()
	lines := writeTextLines(t, tr, TextOptions{Kinds: []Kind{KindSyscall}})
	if lineWith(lines, "> req-") >= 0 || lineWith(lines, "< req-") >= 0 {
		t.Errorf("Kinds=[syscall]: a handler line was printed:\n%s", strings.Join(lines, "\n"))
	}
	if lineWith(lines, "syscall", "write", "res=5") < 0 {
		t.Errorf("Kinds=[syscall]: no syscall line:\n%s", strings.Join(lines, "\n"))
	}

	lines = writeTextLines(t, tr, TextOptions{MaxEvents: 3})
	if lineWith(lines, "... 6 more events") < 0 {
		t.Errorf("MaxEvents=3: no truncation line:\n%s", strings.Join(lines, "\n"))
	}
	events := 0
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "  ...") {
			events++
		}
	}
	if events != 3 {
		t.Errorf("MaxEvents=3: %d event lines, want 3:\n%s", events, strings.Join(lines, "\n"))
	}
}

func TestSummarize(t *testing.T) {
	tr := chromeSample()
	tr.Dropped = 2
	got := Summarize(tr)
	want := Summary{Wakeups: 1, Syscalls: 1, Submits: 3, Completions: 3, Handlers: 3, Lints: 1, Dropped: 2, Span: us(170)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize(sample) (-want +got):\n%s", diff)
	}
}

func TestSummaryString(t *testing.T) {
	for _, tt := range []struct {
		s    Summary
		want string
	}{
		{Summary{}, "0 wakeups, 0 syscalls, 0 submits, 0 completions, 0 handlers, 0 lints, 0 dropped, over 0s"},
		{Summary{Wakeups: 5, Syscalls: 9, Submits: 1, Completions: 1, Handlers: 1, Lints: 1, Dropped: 3, Span: ms(140)},
			"5 wakeups, 9 syscalls, 1 submit, 1 completion, 1 handler, 1 lint, 3 dropped, over 140ms"},
		{Summary{Syscalls: 2, Unfinished: 1, Ready: 2, Span: ms(1)},
			"0 wakeups, 2 syscalls (1 never returned), 0 submits, 0 completions, 2 ready fds, 0 handlers, 0 lints, 0 dropped, over 1ms"},
	} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestErrnoString(t *testing.T) {
	for _, tt := range []struct {
		res  int64
		want string
	}{
		{0, ""},
		{5, ""},
		{-11, "EAGAIN"},
		{-115, "EINPROGRESS"},
		{-125, "ECANCELED"},
		{-4000, "errno4000"},
		{-5000, ""},
	} {
		if got := errnoString(tt.res); got != tt.want {
			t.Errorf("errnoString(%d) = %q, want %q", tt.res, got, tt.want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	for _, tt := range []struct {
		ns   int64
		want string
	}{
		{0, "0s"},
		{999, "999ns"},
		{12345, "12.35µs"},
		{ms(140), "140ms"},
		{1234567, "1.235ms"},
		{1234567890, "1.235s"},
	} {
		if got := fmtDur(tt.ns); got != tt.want {
			t.Errorf("fmtDur(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestWriteTextSyscallBeginsAndReady(t *testing.T) {
	tr := newTraceBuilder().
		syscall(0, 0, us(10), "epoll_wait", 5, 1).
		ready(0, us(10), 7, 0x1|0x4, 5).
		begin(0, ms(1), ms(1), "dial").
		sysBegin(0, ms(1), "read", 3).
		syscall(0, ms(1), us(2), "read", 3, -11).
		sysBegin(0, ms(2), "connect", 7).
		add(Event{Loop: 1, Kind: KindMark, Time: ms(1502), Fd: -1}, "stalled").trace()
	lines := writeTextLines(t, tr, TextOptions{})
	for _, tt := range []struct {
		name   string
		tokens []string
	}{
		{"ready", []string{"0.010ms", "ready", "epoll_wait", "fd=7", "ready=EPOLLIN|EPOLLOUT", "epfd=5"}},
		{"begin that returned", []string{"1.000ms", "syscall", "read", "fd=3", "begin"}},
		{"unfinished", []string{"2.000ms", "syscall", "connect", "fd=7", "begin, never returned (1.5s until the trace ended)"}},
		{"finding", []string{"!!", "2.000ms", "blocking-call: connect() on fd 7 blocked the loop for 1.5s and never returned"}},
		{"stuck handler", []string{"!!", "long-handler", `handler "dial" held the loop for 1.501s, stuck in connect()`}},
		{"summary", []string{"-- 0 wakeups, 3 syscalls (1 never returned), 0 submits, 0 completions, 1 ready fd, 1 handler"}},
	} {
		if lineWith(lines, tt.tokens...) < 0 {
			t.Errorf("%s: no line with %q in:\n%s", tt.name, tt.tokens, strings.Join(lines, "\n"))
		}
	}
	if i := lineWith(lines, "read", "begin"); strings.Contains(lines[i], "never returned") {
		t.Errorf("a read that returned is marked unfinished: %q", lines[i])
	}
}
