package trace

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Finding is one problem found in a trace, by [Analyze] or live by the
// engine (a KindLint event).
type Finding struct {
	Code    LintCode
	Seq     uint64 // the event the finding is about (a handler's Begin, a syscall, a write)
	Time    int64  // when the problem began, in ns since the run started
	Loop    uint16
	Op      uint64 // the op, future or timer involved, if any
	Subject string // the handler at fault, or the one that waited
	Blocker string // what blocked: the longest handler ahead, or the blocking call
	Wait    int64  // how long, in ns: the wait, the handler's run or the call
	Message string // a sentence for the student
}

// LintOptions sets the thresholds of [Analyze]. A zero field takes its
// default.
type LintOptions struct {
	LongHandler  time.Duration // a handler runs longer than this; default 10ms
	HeadOfLine   time.Duration // a ready handler waits longer than this; default 10ms
	BlockingCall time.Duration // a blocking call inside a handler takes longer than this; default 1ms
	// Harness is the key the harness's callbacks carry (engine.Harness),
	// or 0. They are not the handler's: none is reported as a long
	// handler, none's calls as blocking, and none is blamed for a
	// head-of-line wait.
	Harness int64
}

func (o LintOptions) withDefaults() LintOptions {
	if o.LongHandler <= 0 {
		o.LongHandler = 10 * time.Millisecond
	}
	if o.HeadOfLine <= 0 {
		o.HeadOfLine = 10 * time.Millisecond
	}
	if o.BlockingCall <= 0 {
		o.BlockingCall = time.Millisecond
	}
	return o
}

// Linux values the pending-connect lint reads.
const (
	errInProgress = 115    // EINPROGRESS
	epollOut      = 0x4    // EPOLLOUT, in a POLL_ADD completion's result or a ready mask
	epollErr      = 0x8    // EPOLLERR
	epollHup      = 0x10   // EPOLLHUP
	sqeIOLink     = 1 << 2 // IOSQE_IO_LINK, in a submit's Arg0
)

// blockingCalls are system calls that can put the loop thread to sleep.
// epoll_wait and io_uring_enter are left out on purpose: waiting there is
// the loop's job.
var blockingCalls = map[string]bool{
	"read": true, "readv": true, "pread": true, "pread64": true, "preadv": true,
	"write": true, "writev": true, "pwrite": true, "pwrite64": true, "pwritev": true,
	"recv": true, "recvfrom": true, "recvmsg": true,
	"send": true, "sendto": true, "sendmsg": true,
	"connect": true, "accept": true, "accept4": true,
	"fsync": true, "fdatasync": true, "sync_file_range": true,
	"nanosleep": true, "clock_nanosleep": true, "poll": true, "ppoll": true,
	"select": true, "pselect6": true, "wait4": true, "flock": true,
}

// Writes that use a connected socket, as syscalls and as io_uring opcodes.
var (
	writeCalls = map[string]bool{"write": true, "writev": true, "send": true, "sendto": true, "sendmsg": true}
	writeOps   = map[string]bool{"WRITE": true, "WRITEV": true, "WRITE_FIXED": true, "SEND": true,
		"SENDMSG": true, "SEND_ZC": true, "SENDMSG_ZC": true}
)

// holScanLimit bounds how many earlier handlers are searched for the one a
// waiting handler queued behind.
const holScanLimit = 4096

// Analyze computes lints from t and returns them in time order (ties in
// loop, sequence and code order):
//
//   - LintLongHandler: a handler ran (Begin to End on one loop) longer than
//     opt.LongHandler. A handler still running when the trace ends counts up
//     to the trace's last timestamp. Live long-handler lints from the
//     engine's watchdog that fall inside such a handler are folded into
//     this finding.
//   - LintHeadOfLine: a handler began more than opt.HeadOfLine after it
//     became ready (Arg0 of its Begin) because other handlers ran on that
//     loop meanwhile. Blocker is the longest of them; Wait is the delay.
//   - LintBlockingCall: a syscall that can block ([blockingCalls]) took
//     longer than opt.BlockingCall inside a handler, unless the handler
//     held the loop no longer than that once the run delay the loop
//     measured (Arg1 of its End) is taken off. A syscall that began and
//     never returned (see [KindSyscall] and [Trace.UnfinishedSyscalls]) is
//     one too, in or out of a handler, lasting until the trace's last
//     timestamp: "connect() on fd 7 blocked the loop for 1.5s and never
//     returned". The long-handler finding of the handler it was made in
//     then names it: "handler "X" held the loop for 1.5s, stuck in
//     connect()".
//   - LintPendingConnect: a write was made on an fd whose connect is still
//     in progress. In progress means a "connect" syscall returned
//     -EINPROGRESS, or a CONNECT op was submitted and has not completed. The
//     fd stops being pending when a KindComplete named "writable" (the
//     engine's EPOLLOUT readiness) or a KindReady with EPOLLOUT, EPOLLERR or
//     EPOLLHUP (what an epoll_wait returned, the engine's or the handler's
//     own) arrives for it, a POLL_ADD op on it
//     completes with EPOLLOUT set in Res, its CONNECT op completes, another
//     connect is made or the fd is closed. A write is a write, writev, send,
//     sendto or sendmsg syscall, or a WRITE/WRITEV/SEND/SENDMSG-style submit;
//     a submit right behind a CONNECT linked with IOSQE_IO_LINK is ordered
//     by the kernel and does not count. A getsockopt(SO_ERROR) made before
//     the fd is writable does not end the pending state: it reports 0 while
//     the handshake is still under way. Each connect attempt is reported
//     once.
//   - Every other KindLint event (deadlock, off-loop, ...) the engine
//     emitted live becomes a finding as is: Message is its name, Subject
//     the handler running at the time.
//
// The harness's callbacks (opt.Harness) are never reported or blamed.
func Analyze(t *Trace, opt LintOptions) []Finding {
	opt = opt.withDefaults()
	a := &analyzer{t: t, opt: opt, loops: map[uint16]*lintLoop{}}
	for i := range t.Events {
		a.event(&t.Events[i])
	}
	a.finish()
	slices.SortStableFunc(a.out, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Time, y.Time), cmp.Compare(x.Loop, y.Loop),
			cmp.Compare(x.Seq, y.Seq), cmp.Compare(x.Code, y.Code))
	})
	return a.out
}

type analyzer struct {
	t     *Trace
	opt   LintOptions
	loops map[uint16]*lintLoop
	out   []Finding
	end   int64 // latest Time+Dur seen

	live []Finding  // live long-handler lints, kept unless a computed one covers them
	long []longSpan // computed long handlers, to fold live lints into
}

type longSpan struct {
	loop       uint16
	start, end int64
}

type lintSpan struct {
	name              string
	seq               uint64
	op                uint64
	ready, start, end int64
	delay             int64     // time the loop's thread waited for a CPU meanwhile, when the loop measured it
	blocking          []Finding // its long blocking calls, judged when it ends
	harness           bool      // the harness's callback, not the handler's (LintOptions.Harness)
}

// held is how long s held its loop: its length less the time its thread
// waited for a CPU (another process had it, or the box's CPU quota
// throttled it), which is the machine's, not the handler's, where the loop
// measured it.
func (s lintSpan) held() int64 { return s.end - s.start - s.delay }

type connectState struct {
	op       uint64 // the CONNECT op, when connect was submitted to the ring
	linked   bool   // the CONNECT op was linked to the next submit
	reported bool
}

type lintLoop struct {
	stack []lintSpan // handlers running, innermost last
	done  []lintSpan // finished handlers in end order
	conns map[int32]*connectState
	ops   map[uint64]opInfo // submitted ops
	calls []openCall        // syscall begins, in trace order
	open  map[callKey][]int // the calls not returned (yet), by what their record will repeat
}

// openCall is a syscall begin.
type openCall struct {
	seq      uint64
	time     int64
	name     NameID
	fd       int32
	handler  string // the handler it was made in, or ""
	inSeq    uint64 // that handler's Begin, or 0
	harness  bool   // that handler is the harness's
	returned bool   // its record came
}

// callKey is what a syscall's begin and its record share on one loop.
type callKey struct {
	name NameID
	fd   int32
	time int64
}

type opInfo struct {
	fd   int32
	name string
}

func (a *analyzer) loop(id uint16) *lintLoop {
	l := a.loops[id]
	if l == nil {
		l = &lintLoop{conns: map[int32]*connectState{}, ops: map[uint64]opInfo{}, open: map[callKey][]int{}}
		a.loops[id] = l
	}
	return l
}

func (l *lintLoop) current() string {
	if len(l.stack) == 0 {
		return ""
	}
	return l.stack[len(l.stack)-1].name
}

func (a *analyzer) event(e *Event) {
	a.end = max(a.end, eventEnd(e))
	l := a.loop(e.Loop)
	name := a.t.Name(e.Name)
	switch e.Kind {
	case KindHandler:
		switch e.Phase {
		case PhaseBegin:
			s := lintSpan{name: name, seq: e.Seq, op: e.Op, ready: e.Arg0, start: e.Time,
				harness: a.opt.Harness != 0 && e.Arg1 == a.opt.Harness}
			a.headOfLine(l, e, s)
			l.stack = append(l.stack, s)
		case PhaseEnd:
			if len(l.stack) == 0 {
				return
			}
			s := l.stack[len(l.stack)-1]
			l.stack = l.stack[:len(l.stack)-1]
			s.end = e.Time
			if e.Arg1 > 0 {
				s.delay = e.Arg1 // HandlerCPU: the run delay during the handler
			}
			l.done = append(l.done, s)
			a.judgeBlocking(s)
			a.longHandler(e.Loop, s, false, "")
		}
	case KindSyscall:
		if e.Phase == PhaseBegin {
			c := openCall{seq: e.Seq, time: e.Time, name: e.Name, fd: e.Fd, handler: l.current()}
			if n := len(l.stack); n > 0 {
				c.inSeq, c.harness = l.stack[n-1].seq, l.stack[n-1].harness
			}
			k := callKey{e.Name, e.Fd, e.Time}
			l.open[k] = append(l.open[k], len(l.calls))
			l.calls = append(l.calls, c)
			return
		}
		l.returned(e)
		a.syscall(l, e, name)
	case KindReady:
		if e.Arg0&(epollOut|epollErr|epollHup) != 0 {
			delete(l.conns, e.Fd)
		}
	case KindSubmit:
		a.submit(l, e, name)
	case KindComplete:
		a.complete(l, e, name)
	case KindLint:
		f := Finding{Code: LintCode(e.Arg0), Seq: e.Seq, Time: e.Time, Loop: e.Loop, Op: e.Op,
			Subject: l.current(), Message: name}
		if f.Code == LintLongHandler {
			a.live = append(a.live, f)
			return
		}
		a.out = append(a.out, f)
	}
}

// returned marks the begin that the syscall record e completes, if any:
// the oldest one with its name, fd and start.
func (l *lintLoop) returned(e *Event) {
	k := callKey{e.Name, e.Fd, e.Time}
	q := l.open[k]
	if len(q) == 0 {
		return
	}
	l.calls[q[0]].returned = true
	if len(q) == 1 {
		delete(l.open, k)
	} else {
		l.open[k] = q[1:]
	}
}

func (a *analyzer) headOfLine(l *lintLoop, e *Event, s lintSpan) {
	wait := s.start - s.ready
	if s.ready < 0 || wait <= int64(a.opt.HeadOfLine) {
		return
	}
	var blocker *lintSpan
	for i, n := len(l.done)-1, 0; i >= 0 && n < holScanLimit; i, n = i-1, n+1 {
		d := &l.done[i]
		if d.end <= s.ready {
			break
		}
		if d.start < s.start && !d.harness && (blocker == nil || d.end-d.start > blocker.end-blocker.start) {
			blocker = d
		}
	}
	if blocker == nil {
		return // nothing ran meanwhile: the loop was idle or blocked elsewhere
	}
	a.out = append(a.out, Finding{
		Code: LintHeadOfLine, Seq: e.Seq, Time: s.start, Loop: e.Loop, Op: s.op,
		Subject: s.name, Blocker: blocker.name, Wait: wait,
		Message: fmt.Sprintf("%q waited %s behind %q (%s)", s.name, fmtDur(wait), blocker.name,
			fmtDur(blocker.end-blocker.start)),
	})
}

// judgeBlocking reports the long blocking calls made in s, which has
// ended, unless the loop measured that s held the loop no longer than
// opt.BlockingCall once its thread's wait for a CPU is taken off: on a
// loaded machine even a non-blocking connect can last 172 ms of wall time,
// all of it waiting for a CPU. A call that really blocks holds the loop
// whatever the load.
func (a *analyzer) judgeBlocking(s lintSpan) {
	if s.harness || len(s.blocking) == 0 || (s.delay > 0 && s.held() <= int64(a.opt.BlockingCall)) {
		return
	}
	a.out = append(a.out, s.blocking...)
}

// longHandler reports s if it ran too long. unfinished says it was still
// running when the trace ended; stuck names the syscall it was then inside,
// if any.
func (a *analyzer) longHandler(loop uint16, s lintSpan, unfinished bool, stuck string) {
	d := s.end - s.start
	if s.harness {
		// Live lints within it are the harness's too.
		a.long = append(a.long, longSpan{loop: loop, start: s.start, end: s.end})
		return
	}
	if s.held() <= int64(a.opt.LongHandler) {
		return
	}
	var msg string
	switch {
	case stuck != "":
		msg = fmt.Sprintf("handler %q held the loop for %s, stuck in %s()", s.name, fmtDur(d), stuck)
	case unfinished:
		msg = fmt.Sprintf("%q was still running %s after it began when the trace ended; no other handler could run meanwhile (limit %s)",
			s.name, fmtDur(d), fmtDur(int64(a.opt.LongHandler)))
	case s.delay > 0:
		msg = fmt.Sprintf("%q ran for %s on loop %d, %s of it its own and %s waiting for a CPU; no other handler could run meanwhile (limit %s)",
			s.name, fmtDur(d), loop, fmtDur(d-s.delay), fmtDur(s.delay), fmtDur(int64(a.opt.LongHandler)))
	default:
		msg = fmt.Sprintf("%q ran for %s on loop %d; no other handler could run meanwhile (limit %s)",
			s.name, fmtDur(d), loop, fmtDur(int64(a.opt.LongHandler)))
	}
	a.long = append(a.long, longSpan{loop: loop, start: s.start, end: s.end})
	a.out = append(a.out, Finding{Code: LintLongHandler, Seq: s.seq, Time: s.start, Loop: loop, Op: s.op,
		Subject: s.name, Wait: d, Message: msg})
}

func (a *analyzer) syscall(l *lintLoop, e *Event, name string) {
	if blockingCalls[name] && e.Dur > int64(a.opt.BlockingCall) && len(l.stack) > 0 {
		s := &l.stack[len(l.stack)-1]
		s.blocking = append(s.blocking, Finding{Code: LintBlockingCall, Seq: e.Seq, Time: e.Time, Loop: e.Loop, Op: e.Op,
			Subject: s.name, Blocker: name, Wait: e.Dur,
			Message: fmt.Sprintf("%q blocked loop %d for %s in %s(fd %d); use a non-blocking fd and wait for readiness, or submit an op",
				s.name, e.Loop, fmtDur(e.Dur), name, e.Fd)})
	}
	switch {
	case name == "connect":
		if e.Res == -errInProgress {
			l.conns[e.Fd] = &connectState{}
		} else {
			delete(l.conns, e.Fd)
		}
	case name == "close":
		delete(l.conns, e.Fd)
	case writeCalls[name]:
		a.pendingWrite(l, e, name, false)
	}
}

func (a *analyzer) submit(l *lintLoop, e *Event, name string) {
	if e.Op != 0 {
		l.ops[e.Op] = opInfo{fd: e.Fd, name: name}
	}
	switch {
	case name == "CONNECT":
		l.conns[e.Fd] = &connectState{op: e.Op, linked: e.Arg0&sqeIOLink != 0}
		return
	case name == "CLOSE":
		delete(l.conns, e.Fd)
	case writeOps[name]:
		a.pendingWrite(l, e, name, true)
	}
	// Only the submit right behind a linked CONNECT is ordered after it.
	if c := l.conns[e.Fd]; c != nil {
		c.linked = false
	}
}

func (a *analyzer) complete(l *lintLoop, e *Event, name string) {
	fd, opName := e.Fd, name
	if info, ok := l.ops[e.Op]; ok && e.Op != 0 {
		fd, opName = info.fd, info.name
		if e.Arg0&cqeFMore == 0 {
			delete(l.ops, e.Op)
		}
	}
	c := l.conns[fd]
	if c == nil {
		return
	}
	switch {
	case name == "writable",
		opName == "POLL_ADD" && e.Res >= 0 && e.Res&epollOut != 0,
		opName == "CONNECT" && e.Op == c.op:
		delete(l.conns, fd)
	}
}

func (a *analyzer) pendingWrite(l *lintLoop, e *Event, name string, submitted bool) {
	c := l.conns[e.Fd]
	if c == nil || c.reported || (submitted && c.linked) {
		return
	}
	c.reported = true
	subject := l.current()
	if subject == "" {
		subject = fmt.Sprintf("fd %d", e.Fd)
	}
	a.out = append(a.out, Finding{Code: LintPendingConnect, Seq: e.Seq, Time: e.Time, Loop: e.Loop, Op: e.Op,
		Subject: subject, Blocker: "connect",
		Message: fmt.Sprintf("%s on fd %d while its connect is still in progress (EINPROGRESS); wait until the fd is writable, then check SO_ERROR",
			name, e.Fd)})
}

func (a *analyzer) finish() {
	ids := make([]uint16, 0, len(a.loops))
	for id := range a.loops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		l := a.loops[id]
		stuck := map[uint64]string{} // handler Begin seq -> the call it is stuck in
		for _, c := range l.calls {
			if c.returned || c.harness {
				continue
			}
			name := a.t.Name(c.name)
			if c.inSeq != 0 {
				stuck[c.inSeq] = name
			}
			wait := a.end - c.time
			if wait <= int64(a.opt.BlockingCall) {
				continue
			}
			on := ""
			if c.fd >= 0 {
				on = fmt.Sprintf(" on fd %d", c.fd)
			}
			a.out = append(a.out, Finding{Code: LintBlockingCall, Seq: c.seq, Time: c.time, Loop: id,
				Subject: c.handler, Blocker: name, Wait: wait,
				Message: fmt.Sprintf("%s()%s blocked the loop for %s and never returned", name, on, fmtDur(wait))})
		}
		for _, s := range l.stack {
			s.end = a.end
			if !s.harness {
				a.out = append(a.out, s.blocking...) // no end, so no run delay to take off
			}
			a.longHandler(id, s, true, stuck[s.seq])
		}
	}
	for _, f := range a.live {
		covered := slices.ContainsFunc(a.long, func(s longSpan) bool {
			return s.loop == f.Loop && s.start <= f.Time && f.Time <= s.end
		})
		if !covered {
			a.out = append(a.out, f)
		}
	}
}
