package trace

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAnalyze(t *testing.T) {
	ignoreMessage := cmpopts.IgnoreFields(Finding{}, "Message")
	for _, tt := range []struct {
		name  string
		trace *Trace
		opt   LintOptions
		want  []Finding
	}{
		{
			name:  "seed head-of-line burst",
			trace: seedHeadOfLine().trace(),
			want: []Finding{
				{Code: LintLongHandler, Seq: 1, Time: 0, Subject: "req-80ms", Wait: ms(80)},
				{Code: LintLongHandler, Seq: 3, Time: ms(80), Subject: "req-40ms", Wait: ms(40)},
				{Code: LintHeadOfLine, Seq: 3, Time: ms(80), Subject: "req-40ms", Blocker: "req-80ms", Wait: ms(80)},
				{Code: LintLongHandler, Seq: 5, Time: ms(120), Subject: "req-20ms", Wait: ms(20)},
				{Code: LintHeadOfLine, Seq: 5, Time: ms(120), Subject: "req-20ms", Blocker: "req-80ms", Wait: ms(120)},
				{Code: LintHeadOfLine, Seq: 7, Time: ms(140), Subject: "req-10ms", Blocker: "req-80ms", Wait: ms(140)},
			},
		},
		{
			// A non-blocking connect that lasted 172 ms because its thread
			// waited 171 ms for a CPU did not hold the loop; one that
			// blocked did, whatever else the callback waited for.
			name: "a long call is the handler's only when the handler held the loop",
			trace: newTraceBuilder().
				begin(0, 0, 0, "kept off the CPU").
				add(Event{Kind: KindSyscall, Time: ms(1), Dur: ms(172), Fd: 5, Res: -115}, "connect").
				add(Event{Kind: KindHandler, Phase: PhaseEnd, Time: ms(174), Dur: ms(174), Arg0: ms(3), Arg1: ms(171), Fd: -1}, "kept off the CPU").
				begin(0, ms(200), ms(200), "blocked").
				add(Event{Kind: KindSyscall, Time: ms(201), Dur: ms(172), Fd: 6, Res: 0}, "connect").
				add(Event{Kind: KindHandler, Phase: PhaseEnd, Time: ms(374), Dur: ms(174), Arg0: ms(2), Arg1: ms(1), Fd: -1}, "blocked").trace(),
			opt: LintOptions{LongHandler: 100 * time.Millisecond, BlockingCall: 100 * time.Millisecond, HeadOfLine: time.Second},
			want: []Finding{
				{Code: LintLongHandler, Seq: 4, Time: ms(200), Subject: "blocked", Wait: ms(174)},
				{Code: LintBlockingCall, Seq: 5, Time: ms(201), Subject: "blocked", Blocker: "connect", Wait: ms(172)},
			},
		},
		{
			// The harness's callbacks carry its key: a loaded machine that
			// stretches one is not the handler's doing, and a handler that
			// waited behind one was not held up by another handler. A
			// callback with another key is the handler's.
			name: "the harness's callbacks are never charged to the handler",
			trace: newTraceBuilder().
				add(Event{Kind: KindHandler, Phase: PhaseBegin, Time: 0, Arg0: 0, Arg1: 77, Fd: -1}, "harness: end of run").
				add(Event{Kind: KindSyscall, Time: ms(1), Dur: ms(150), Fd: 5}, "read").
				lint(0, ms(120), LintLongHandler, "live: still running").
				end(0, ms(157), ms(157), "harness: end of run").
				handler(0, ms(2), ms(157), ms(158), "waited behind the harness").
				add(Event{Kind: KindHandler, Phase: PhaseBegin, Time: ms(200), Arg0: ms(200), Arg1: 78, Fd: -1}, "harness: forged key").
				end(0, ms(320), ms(120), "harness: forged key").
				add(Event{Kind: KindHandler, Phase: PhaseBegin, Time: ms(400), Arg0: ms(400), Arg1: 77, Fd: -1}, "harness: still running").
				sysBegin(0, ms(401), "read", 6).
				syscall(0, ms(600), 0, "write", 1, 1).trace(),
			opt: LintOptions{LongHandler: 100 * time.Millisecond, BlockingCall: time.Millisecond, HeadOfLine: 10 * time.Millisecond, Harness: 77},
			want: []Finding{
				{Code: LintLongHandler, Seq: 7, Time: ms(200), Subject: "harness: forged key", Wait: ms(120)},
			},
		},
		{
			name: "blocker is the longest handler in the window",
			trace: newTraceBuilder().
				handler(0, 0, 0, ms(5), "before-ready").
				handler(0, ms(5), ms(5), ms(10), "short").
				handler(0, ms(6), ms(10), ms(18), "long").
				handler(0, ms(18), ms(18), ms(20), "short2").
				handler(0, ms(6), ms(20), ms(21), "waiter").trace(),
			opt: LintOptions{HeadOfLine: 10 * time.Millisecond},
			want: []Finding{
				{Code: LintHeadOfLine, Seq: 9, Time: ms(20), Subject: "waiter", Blocker: "long", Wait: ms(14)},
			},
		},
		{
			// HandlerCPU: 150 ms of a 200 ms handler waiting for a CPU
			// is the machine's; 50 ms of it is not enough to excuse it.
			name: "time waiting for a CPU is not the handler's",
			trace: newTraceBuilder().
				begin(0, 0, 0, "descheduled").
				add(Event{Kind: KindHandler, Phase: PhaseEnd, Time: ms(200), Dur: ms(200), Arg0: ms(50), Arg1: ms(150), Fd: -1}, "descheduled").
				begin(0, ms(200), ms(200), "slow").
				add(Event{Kind: KindHandler, Phase: PhaseEnd, Time: ms(400), Dur: ms(200), Arg0: ms(150), Arg1: ms(50), Fd: -1}, "slow").trace(),
			opt: LintOptions{LongHandler: 100 * time.Millisecond, HeadOfLine: time.Second},
			want: []Finding{
				{Code: LintLongHandler, Seq: 3, Time: ms(200), Subject: "slow", Wait: ms(200)},
			},
		},
		{
			name: "idle loop is not head-of-line",
			trace: newTraceBuilder().
				handler(0, 0, ms(50), ms(51), "late").trace(),
		},
		{
			name: "wait under the threshold",
			trace: newTraceBuilder().
				handler(0, 0, 0, ms(9), "a").
				handler(0, 0, ms(9), ms(10), "b").trace(),
		},
		{
			name: "other loops do not block",
			trace: newTraceBuilder().
				handler(1, 0, 0, ms(5), "other-loop").
				handler(0, 0, ms(20), ms(21), "idle-wait").trace(),
		},
		{
			name: "long handler with a custom threshold",
			trace: newTraceBuilder().
				handler(2, 0, ms(1), ms(6), "slow").trace(),
			opt:  LintOptions{LongHandler: time.Millisecond},
			want: []Finding{{Code: LintLongHandler, Seq: 1, Time: ms(1), Loop: 2, Subject: "slow", Wait: ms(5)}},
		},
		{
			name: "handler still running at the end",
			trace: newTraceBuilder().
				begin(0, 0, 0, "stuck").
				add(Event{Kind: KindMark, Time: ms(30), Fd: -1}, "tick").trace(),
			want: []Finding{{Code: LintLongHandler, Seq: 1, Time: 0, Subject: "stuck", Wait: ms(30)}},
		},
		{
			name: "live long-handler lint folds into the computed one",
			trace: newTraceBuilder().
				begin(0, 0, 0, "slow").
				lint(0, ms(20), LintLongHandler, "handler slow held the loop for 20ms").
				end(0, ms(50), ms(50), "slow").
				handler(0, ms(50), ms(50), ms(52), "quick").
				lint(0, ms(60), LintLongHandler, "handler quick held the loop for 2ms").trace(),
			want: []Finding{
				{Code: LintLongHandler, Seq: 1, Time: 0, Subject: "slow", Wait: ms(50)},
				{Code: LintLongHandler, Seq: 6, Time: ms(60)},
			},
		},
		{
			name: "deadlock passes through",
			trace: newTraceBuilder().
				begin(0, 0, 0, "on-read").
				lint(0, us(5), LintDeadlock, `blocking wait on future "body" inside handler "on-read" on loop 0`).
				end(0, us(6), us(6), "on-read").trace(),
			want: []Finding{{Code: LintDeadlock, Seq: 2, Time: us(5), Subject: "on-read"}},
		},
		{
			name: "off-loop passes through outside handlers",
			trace: newTraceBuilder().
				lint(3, us(5), LintOffLoop, "Submit called off the loop thread").trace(),
			want: []Finding{{Code: LintOffLoop, Seq: 1, Time: us(5), Loop: 3}},
		},
		{
			name: "blocking calls inside a handler",
			trace: newTraceBuilder().
				syscall(0, 0, ms(5), "read", 3, 10). // outside any handler
				begin(0, ms(10), ms(10), "h").
				syscall(0, ms(10), ms(5), "read", 3, 10).
				syscall(0, ms(15), ms(50), "epoll_wait", 4, 1).
				syscall(0, ms(65), ms(50), "io_uring_enter", 4, 1).
				syscall(0, ms(115), us(500), "write", 3, 10).
				syscall(0, ms(116), ms(2), "fsync", 5, 0).
				syscall(0, ms(118), ms(2), "getpid", -1, 1).
				end(0, ms(120), ms(110), "h").trace(),
			opt: LintOptions{LongHandler: time.Second},
			want: []Finding{
				{Code: LintBlockingCall, Seq: 3, Time: ms(10), Subject: "h", Blocker: "read", Wait: ms(5)},
				{Code: LintBlockingCall, Seq: 7, Time: ms(116), Subject: "h", Blocker: "fsync", Wait: ms(2)},
			},
		},
		{
			name: "a blocking connect that never returned",
			trace: newTraceBuilder().
				begin(0, ms(1), ms(1), "dial").
				sysBegin(0, ms(2), "connect", 7).
				add(Event{Loop: 1, Kind: KindMark, Time: ms(1502), Fd: -1}, "harness: stalled").trace(),
			want: []Finding{
				{Code: LintLongHandler, Seq: 1, Time: ms(1), Subject: "dial", Wait: ms(1501)},
				{Code: LintBlockingCall, Seq: 2, Time: ms(2), Subject: "dial", Blocker: "connect", Wait: ms(1500)},
			},
		},
		{
			name: "a call that returned is reported once, from its record",
			trace: newTraceBuilder().
				begin(0, 0, 0, "h").
				sysBegin(0, ms(1), "read", 3).
				syscall(0, ms(1), ms(5), "read", 3, 10).
				sysBegin(0, ms(7), "read", 3).
				syscall(0, ms(7), us(5), "read", 3, -11).
				end(0, ms(8), ms(8), "h").trace(),
			want: []Finding{
				{Code: LintBlockingCall, Seq: 3, Time: ms(1), Subject: "h", Blocker: "read", Wait: ms(5)},
			},
		},
		{
			name: "unfinished outside a handler, and one too short to tell",
			trace: newTraceBuilder().
				sysBegin(0, ms(1), "accept4", 5).
				sysBegin(2, ms(10), "read", 4).
				add(Event{Loop: 1, Kind: KindMark, Time: ms(10) + us(100), Fd: -1}, "end").trace(),
			want: []Finding{
				{Code: LintBlockingCall, Seq: 1, Time: ms(1), Blocker: "accept4", Wait: ms(9) + us(100)},
			},
		},
		{
			name: "write before the connect completes (epoll)",
			trace: newTraceBuilder().
				begin(0, 0, 0, "dial").
				syscall(0, us(1), us(1), "connect", 7, -115).
				syscall(0, us(3), us(1), "write", 7, -11).
				syscall(0, us(5), us(1), "send", 7, -11).
				end(0, us(6), us(6), "dial").trace(),
			want: []Finding{{Code: LintPendingConnect, Seq: 3, Time: us(3), Subject: "dial", Blocker: "connect"}},
		},
		{
			name: "write after writable",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				complete(0, us(50), 0, "writable", 7, 4).
				syscall(0, us(51), us(1), "getsockopt", 7, 0).
				syscall(0, us(53), us(1), "write", 7, 5).trace(),
		},
		{
			name: "EPOLLOUT from the handler's own epoll_wait settles the connect",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				ready(0, us(50), 7, 0x4, 9).
				syscall(0, us(53), us(1), "write", 7, 5).trace(),
		},
		{
			name: "EPOLLIN alone does not settle the connect",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				ready(0, us(50), 7, 0x1, 9).
				syscall(0, us(53), us(1), "write", 7, 5).trace(),
			want: []Finding{{Code: LintPendingConnect, Seq: 3, Time: us(53), Subject: "fd 7", Blocker: "connect"}},
		},
		{
			name: "getsockopt before writable does not settle the connect",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				syscall(0, us(2), us(1), "getsockopt", 7, 0).
				syscall(0, us(3), us(1), "sendto", 7, 5).trace(),
			want: []Finding{{Code: LintPendingConnect, Seq: 3, Time: us(3), Subject: "fd 7", Blocker: "connect"}},
		},
		{
			name: "writable for another fd",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				complete(0, us(2), 0, "writable", 8, 4).
				syscall(0, us(3), us(1), "writev", 7, 5).trace(),
			want: []Finding{{Code: LintPendingConnect, Seq: 3, Time: us(3), Subject: "fd 7", Blocker: "connect"}},
		},
		{
			name: "connect that succeeds at once, and a closed fd",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, 0).
				syscall(0, us(2), us(1), "write", 7, 5).
				syscall(0, us(3), us(1), "connect", 8, -115).
				syscall(0, us(4), us(1), "close", 8, 0).
				syscall(0, us(5), us(1), "write", 8, -9).trace(),
		},
		{
			name: "write submitted before the CONNECT op completes (io_uring)",
			trace: newTraceBuilder().
				submit(0, us(1), 1, "CONNECT", 7, 0).
				submit(0, us(2), 2, "WRITE", 7, 0).trace(),
			want: []Finding{{Code: LintPendingConnect, Seq: 2, Time: us(2), Op: 2, Subject: "fd 7", Blocker: "connect"}},
		},
		{
			name: "write linked behind CONNECT",
			trace: newTraceBuilder().
				submit(0, us(1), 1, "CONNECT", 7, sqeIOLink).
				submit(0, us(2), 2, "SEND", 7, 0).trace(),
		},
		{
			name: "write after CONNECT completes",
			trace: newTraceBuilder().
				submit(0, us(1), 1, "CONNECT", 7, 0).
				complete(0, us(9), 1, "CONNECT", 7, 0).
				submit(0, us(10), 2, "SEND", 7, 0).trace(),
		},
		{
			name: "POLL_ADD with EPOLLOUT settles the connect",
			trace: newTraceBuilder().
				syscall(0, us(1), us(1), "connect", 7, -115).
				submit(0, us(2), 5, "POLL_ADD", 7, 0).
				complete(0, us(9), 5, "POLL_ADD", -1, epollOut).
				submit(0, us(10), 6, "WRITE", 7, 0).trace(),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.trace, tt.opt)
			if diff := cmp.Diff(tt.want, got, ignoreMessage, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Analyze(%s) (-want +got):\n%s", tt.name, diff)
			}
			for _, f := range got {
				if f.Message == "" {
					t.Errorf("Analyze(%s): finding %v has no message", tt.name, f.Code)
				}
			}
		})
	}
}

func TestAnalyzeMessages(t *testing.T) {
	got := Analyze(seedHeadOfLine().trace(), LintOptions{})
	var hol *Finding
	for i := range got {
		if got[i].Code == LintHeadOfLine && got[i].Subject == "req-10ms" {
			hol = &got[i]
		}
	}
	if hol == nil {
		t.Fatalf("Analyze(seed) = %v, want a head-of-line finding for req-10ms", got)
	}
	if want := `"req-10ms" waited 140ms behind "req-80ms" (80ms)`; hol.Message != want {
		t.Errorf("head-of-line message = %q, want %q", hol.Message, want)
	}

	tr := newTraceBuilder().
		begin(0, 0, 0, "on-read").
		lint(0, us(5), LintDeadlock, `blocking wait on future "body"`).trace()
	var deadlocks []string
	for _, f := range Analyze(tr, LintOptions{}) {
		if f.Code == LintDeadlock {
			deadlocks = append(deadlocks, f.Message)
		}
	}
	if want := []string{`blocking wait on future "body"`}; !slices.Equal(deadlocks, want) {
		t.Errorf("deadlock findings = %q, want one with the lint's own text %q", deadlocks, want)
	}

	tr = newTraceBuilder().
		begin(0, 0, 0, "X").
		sysBegin(0, ms(1), "connect", 7).
		add(Event{Loop: 1, Kind: KindMark, Time: ms(1501), Fd: -1}, "stalled").trace()
	got = Analyze(tr, LintOptions{})
	var msgs []string
	for _, f := range got {
		msgs = append(msgs, f.Message)
	}
	if want := []string{`handler "X" held the loop for 1.501s, stuck in connect()`,
		`connect() on fd 7 blocked the loop for 1.5s and never returned`}; !slices.Equal(msgs, want) {
		t.Errorf("findings of a connect that never returned = %q, want %q", msgs, want)
	}

	tr = newTraceBuilder().syscall(0, 0, 0, "connect", 7, -115).syscall(0, 1, 0, "write", 7, 1).trace()
	f := Analyze(tr, LintOptions{})
	if len(f) != 1 || !strings.Contains(f[0].Message, "fd 7") || !strings.Contains(f[0].Message, "writable") {
		t.Errorf("pending-connect findings = %+v, want one naming fd 7 and writability", f)
	}
}

func TestAnalyzeTimeOrder(t *testing.T) {
	// Loop 1's events come later in the stream but earlier in time.
	tr := newTraceBuilder().
		handler(0, 0, ms(100), ms(150), "late").
		handler(1, 0, 0, ms(30), "early").trace()
	got := Analyze(tr, LintOptions{})
	if len(got) != 2 || got[0].Subject != "early" || got[1].Subject != "late" {
		t.Errorf("Analyze order = %+v, want early then late", got)
	}
}
