// Package connect is the non-blocking connect exercise: EINPROGRESS,
// writability, SO_ERROR and a deadline of the handler's own.
package connect

import (
	"context"
	"embed"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/asynclab/asynclab/exercises/connect/wire"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/linux"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/report"
)

//go:embed instructions.md
var instructions string

const (
	port     = "7000"
	addr     = "127.0.0.1:" + port
	deadline = 300 * time.Millisecond
	lateBy   = 100 * time.Millisecond
	// slack is how late after its deadline a handler may answer, on top of
	// how late the run's own timers fired (see [deadlineHonoured]): far
	// more than a loop needs to act on a timer, far less than a deadline
	// of the handler's own choosing would add.
	slack = 50 * time.Millisecond
	// holdLimit is how long a callback, or a call in it, may hold the
	// loop: far above what a loaded machine adds to a quick handler, far
	// below what a blocked or spinning one takes.
	holdLimit = 100 * time.Millisecond
)

// want is the right answer in each scenario.
var want = map[string]string{
	"listener":   "connected",
	"late":       "connected",
	"closed":     "error ECONNREFUSED",
	"full-queue": "error ETIMEDOUT",
}

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	params := map[string]string{"port": port, "deadline": deadline.String()}
	// The listener must read the harness's probe before the run ends and
	// its connections close: on a loaded machine the peer may run late.
	listenParams := map[string]string{"port": port, "deadline": deadline.String(), "linger": "500ms"}
	// The run must outlast the late accept, or the listener never reads:
	// the slack is for a loaded machine, where the peer may run late.
	lateParams := map[string]string{"port": port, "deadline": deadline.String(), "linger": (lateBy + 800*time.Millisecond).String()}
	return &exercises.Exercise{
		Slug:         "connect",
		Title:        "Non-blocking connect",
		Topic:        "The Devil in the Details: non-blocking connect (EINPROGRESS, writable, SO_ERROR)",
		Difficulty:   "intro",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Connect",
		Signature:    "func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error))",
		Child:        "github.com/asynclab/asynclab/exercises/connect/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "einprogress_as_failure", Mistake: "treats EINPROGRESS as a failure",
				Source: exercises.HandlerSource(files, "einprogress_as_failure"), Fails: []string{"outcome", "waits-writable"}},
			{Name: "write_at_once", Mistake: "writes at once, as if connected",
				Source: exercises.HandlerSource(files, "write_at_once"), Fails: []string{"outcome", "real-connection", "waits-writable", "no-premature-use"}},
			{Name: "wait_readable", Mistake: "waits for readability instead of writability",
				Source: exercises.HandlerSource(files, "wait_readable"), Fails: []string{"outcome", "waits-writable"}},
			{Name: "skip_so_error", Mistake: "never reads SO_ERROR",
				Source: exercises.HandlerSource(files, "skip_so_error"), Fails: []string{"outcome", "real-connection"}},
			{Name: "busy_poll", Mistake: "busy-polls connect on the loop's thread",
				Source: exercises.HandlerSource(files, "busy_poll"), Fails: []string{"never-blocked"}},
			{Name: "own_longer_deadline", Mistake: "ignores the given deadline and arms a longer one of its own",
				Source: exercises.HandlerSource(files, "own_longer_deadline"), Fails: []string{"deadline"}},
			{Name: "early_timeout", Mistake: "gives up at half the deadline it is given",
				Source: exercises.HandlerSource(files, "early_timeout"), Fails: []string{"deadline"}},
			{Name: "leak_on_failure", Mistake: "leaks the socket when the connect fails",
				Source: exercises.HandlerSource(files, "leak_on_failure"), Fails: []string{"no-fd-leak"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "listener", Title: "a listener that accepts at once", Params: listenParams, Peer: listenPeer(0)},
			{Name: "late", Title: "a listener that accepts 100 ms late", Params: lateParams, Peer: listenPeer(lateBy)},
			{Name: "closed", Title: "a closed port", Params: params, Peer: closedPeer},
			{Name: "full-queue", Title: "a listener whose accept queue is full", Params: params, Peer: fullPeer,
				Timeout: 1500 * time.Millisecond},
		},
		Checks: checks,
		// Far above what a loaded machine adds to a quick handler, far
		// below what a blocked or spinning one takes.
		Lints:  trace.LintOptions{LongHandler: holdLimit, BlockingCall: holdLimit},
		Judged: []trace.LintCode{trace.LintLongHandler, trace.LintBlockingCall, trace.LintPendingConnect},
		// The deadline check allows for the time the loop waited for a CPU.
		MeasureHandlers: true,
	}
}

// listenPeer accepts connections on addr after a delay and records the
// first bytes each one carries.
func listenPeer(delay time.Duration) func(context.Context, *sandbox.NetNS, map[string]string, *exercises.Observations) error {
	return func(ctx context.Context, ns *sandbox.NetNS, _ map[string]string, obs *exercises.Observations) error {
		ln, err := ns.Listen("tcp", addr)
		if err != nil {
			return err
		}
		ns.Ready()
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		go func() { <-ctx.Done(); ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				return nil
			}
			obs.Set("accepted", "yes")
			go func(c net.Conn) {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(time.Second))
				b, _ := io.ReadAll(io.LimitReader(c, 64))
				if len(b) > 0 {
					obs.Set("probe", string(b))
				}
			}(c)
		}
	}
}

func closedPeer(ctx context.Context, ns *sandbox.NetNS, _ map[string]string, _ *exercises.Observations) error {
	ns.Ready()
	return nil
}

var checks = []exercises.Check{
	{ID: "outcome", Title: "The outcome is right in each scenario", Points: 30,
		Hint: "EINPROGRESS means the handshake started. Wait until the socket is writable, then SO_ERROR tells you how it ended. With no answer by your deadline, report ETIMEDOUT.",
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			w := want[r.Scenario.Name]
			switch {
			case r.Error != "":
				return exercises.Fail(r, nil, "the run ended with %s", r.Error)
			case r.Answer == "" && r.TraceCut():
				return exercises.NotEvaluated(r, "the handler's answer is not known: %s", r.Incomplete())
			case r.Answer == "" && r.Never == "":
				return exercises.Fail(r, nil, "the handler never answered: %s; want %q", r.Incomplete(), w)
			case r.Answer == "":
				return exercises.Fail(r, nil, "the handler never answered (%s); want %q", r.Never, w)
			case r.Answer != w:
				return exercises.Fail(r, reportEvent(r), "the handler answered %q; want %q", r.Answer, w)
			}
			return exercises.Pass()
		})},
	{ID: "real-connection", Title: "A reported connection is real: the trusted listener received data on it", Points: 15,
		Hint:    "A socket that became writable may have failed. Only SO_ERROR == 0 means connected.",
		Reached: reported("connected"),
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if r.Answer == "connected" && r.Obs.Get("probe") != wire.Probe {
				return exercises.Fail(r, reportEvent(r), "the handler reported a connection, but the listener never received anything on it")
			}
			return exercises.Pass()
		})},
	{ID: "never-blocked", Title: "The handler never blocked the loop", Points: 20,
		Hint:    "Create the socket with SOCK_NONBLOCK and never wait or spin inside a callback: return to the loop and let it call you back.",
		Reached: connected,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			// A blocking call is the more precise finding: it names the
			// call the loop was stuck in, not only the callback. Both
			// leave out the time the callback's thread waited for a CPU
			// (trace.Analyze, with the run delay the loop measured).
			if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintBlockingCall); found {
				return o
			}
			if o, found := exercises.FailOnLongHandler(r); found {
				return o
			}
			if strings.Contains(r.Error, "held the loop") {
				return exercises.Fail(r, nil, "a handler held the loop until the harness gave up: %s", r.Error)
			}
			if e := spun(r); e != nil {
				return exercises.Fail(r, e, "%s was called %d times on fd %d in one callback, still not done each time: the callback spun on the loop instead of returning and letting the loop call it back when the fd is writable",
					r.Trace.Name(e.Name), spinLimit, e.Fd)
			}
			if e := blockingConnect(r); e != nil {
				return exercises.Fail(r, e, "connect was called on fd %d while it was a blocking socket (no SOCK_NONBLOCK, or set non-blocking only later)", e.Fd)
			}
			return exercises.Pass()
		})},
	{ID: "waits-writable", Title: "After EINPROGRESS the handler waits until the socket is writable (or the connect completes), and reads SO_ERROR only then", Points: 15,
		Hint:    "POSIX makes the socket writable when the handshake ends, either way. Wait for that (OnWritable, your own epoll, or IORING_OP_CONNECT's completion) before asking SO_ERROR.",
		Reached: connected,
		Eval:    exercises.EachRun(waitsWritable)},
	{ID: "deadline", Title: "The handler's own deadline is honoured: ETIMEDOUT at the deadline, and the pending connect cancelled", Points: 10,
		Hint:    "Arm a timer for the given deadline when the connect starts; when it fires, cancel the connect (op.Cancel on io_uring; stop watching and close on epoll) and report ETIMEDOUT. Stop the timer when the connect ends first.",
		Reached: connected,
		Eval:    exercises.EachRun(deadlineHonoured)},
	{ID: "no-premature-use", Title: "A pending connection is never used as if connected", Points: 5,
		Hint:    "Until the socket is writable and SO_ERROR is 0, writing to it fails or queues data on a connection that may never exist.",
		Reached: connected,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintPendingConnect); found {
				return o
			}
			if e := pendingWhenReported(r); e != nil {
				return exercises.Fail(r, reportEvent(r), "the handler reported fd %d as connected while its connect was still in progress: nothing had said the handshake was over", e.Fd)
			}
			return exercises.Pass()
		})},
	{ID: "no-fd-leak", Title: "No descriptor is leaked", Points: 5,
		Hint:    "When you report a failure, close the socket first.",
		Reached: connected,
		Eval: exercises.EachRun(func(r *exercises.Run) exercises.Outcome {
			if r.FDs > 0 {
				return exercises.Fail(r, nil, "%d descriptor(s) still open after the run (%s)", r.FDs, r.FDList)
			}
			return exercises.Pass()
		})},
}

// connected reaches a check in a run where the handler started a connect:
// a handler that never tries earns nothing for not blocking, not leaking
// and not misusing a socket it never made.
func connected(r *exercises.Run) string {
	if connectStart(r) < 0 {
		return "the handler never started a connect"
	}
	return ""
}

// reported reaches a check in a run where the handler answered answer.
func reported(answer string) func(*exercises.Run) string {
	return func(r *exercises.Run) string {
		if r.Answer != answer {
			return fmt.Sprintf("the handler never reported %q", answer)
		}
		return ""
	}
}

// deadlineHonoured checks the handler's timing against the deadline it was
// given: a timeout is reported neither before it nor much after it, and a
// CONNECT op still pending then is cancelled before the run ends.
//
// "Much after" is measured, not guessed: the run's own timers tell how late
// this loop acted on a due timer, the harness's probe how late a Go timer
// fired in the box (a handler may keep its deadline on one, off the loop),
// the loop's run delay how long its thread waited for a CPU, and the
// handler gets the largest plus [slack].
// A handler that arms a timer of its own choosing (700 ms for a 300 ms
// deadline) answers hundreds of ms late and fails on any machine.
func deadlineHonoured(r *exercises.Run) exercises.Outcome {
	e := reportEvent(r)
	start := connectStart(r)
	if e == nil {
		if why := r.Incomplete(); why != "" {
			return exercises.NotEvaluated(r, "%s before it answered, so its timing cannot be judged", why)
		}
		if r.Scenario.Name == "full-queue" {
			return exercises.Fail(r, nil, "no answer by the deadline (%v)", deadline)
		}
		return exercises.Pass()
	}
	took := time.Duration(e.Time - start)
	late := max(timerLateness(r), runDelay(r, start, e.Time), time.Duration(r.Values[report.ValueTimerLate]))
	if took > deadline+late+slack {
		return exercises.Fail(r, e, "answered %v after the connect started; the deadline is %v (allowing %v for this machine's load: late timers, waiting for a CPU)",
			took.Round(time.Millisecond), deadline, late.Round(time.Millisecond))
	}
	// Early is measured from when the handler asked: the callback that
	// made the connect. On io_uring the CONNECT enters the SQ when the
	// loop flushes, after the callback has armed its deadline timer, so a
	// timer of exactly the deadline fires a little less than it after the
	// submission.
	if early := time.Duration(e.Time - askedAt(r, start)); strings.Contains(r.Answer, "ETIMEDOUT") && early < deadline {
		return exercises.Fail(r, e, "reported a timeout after only %v; the deadline is %v", early.Round(time.Millisecond), deadline)
	}
	if op := uncancelledConnect(r); op != nil {
		return exercises.Fail(r, op, "the CONNECT op submitted here was still pending when the run ended: it was never cancelled")
	}
	return exercises.Pass()
}

// timerLateness is how late after its due time the latest timer of the
// run fired: what the machine's load did to this loop.
func timerLateness(r *exercises.Run) time.Duration {
	var late int64
	for _, e := range r.Trace.Events {
		if e.Kind == trace.KindTimer && e.Phase == trace.PhaseFire && e.Time-e.Arg0 > late {
			late = e.Time - e.Arg0
		}
	}
	return time.Duration(late)
}

// runDelay is how long the loop's thread waited for a CPU in the callbacks
// that ran between from and to (the box's CPU quota throttles it there
// too): a handler that spins until its deadline answers late by that much
// without a timer to show it.
func runDelay(r *exercises.Run, from, to int64) time.Duration {
	var delay, begin int64 = 0, -1
	for _, e := range r.Trace.Events {
		if e.Loop != 0 || e.Kind != trace.KindHandler {
			continue
		}
		switch e.Phase {
		case trace.PhaseBegin:
			begin = e.Time
		case trace.PhaseEnd:
			if begin >= 0 && begin <= to && e.Time >= from && e.Arg1 > 0 {
				delay += e.Arg1
			}
			begin = -1
		}
	}
	return time.Duration(delay)
}

// uncancelledConnect returns the submit of a CONNECT op that had not
// completed when the harness ended the run (its completion, if any, is the
// loop failing what was left over), or nil.
func uncancelledConnect(r *exercises.Run) *trace.Event {
	end := int64(1<<63 - 1)
	for i := range r.Trace.Events {
		if e := &r.Trace.Events[i]; e.Kind == trace.KindTimer && e.Phase == trace.PhaseFire && r.ByHarness(e) && r.Trace.Name(e.Name) == report.EndOfRun {
			end = e.Time
			break
		}
	}
	pending := map[uint64]*trace.Event{}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		switch {
		case e.Kind == trace.KindSubmit && r.Trace.Name(e.Name) == "CONNECT":
			pending[e.Op] = e
		case e.Kind == trace.KindComplete && e.Time <= end:
			delete(pending, e.Op)
		}
	}
	var first *trace.Event
	for _, e := range pending {
		if first == nil || e.Seq < first.Seq {
			first = e
		}
	}
	return first
}

// reportEvent is the harness's mark of the handler's answer.
func reportEvent(r *exercises.Run) *trace.Event { return r.AnswerEvent }

// connectStart is when the handler started connecting: its first connect
// call or CONNECT submission.
func connectStart(r *exercises.Run) int64 {
	if r.Trace == nil {
		return -1
	}
	for _, e := range r.Trace.Events {
		name := r.Trace.Name(e.Name)
		if (e.Kind == trace.KindSyscall && name == "connect") || (e.Kind == trace.KindSubmit && name == "CONNECT") {
			return e.Time
		}
	}
	return -1
}

// askedAt is when the handler asked for the connect that started at
// start: the beginning of the latest callback to begin by then.
func askedAt(r *exercises.Run, start int64) int64 {
	at := int64(-1)
	for _, e := range r.Trace.Events {
		if e.Kind == trace.KindHandler && e.Phase == trace.PhaseBegin && e.Time <= start && e.Time > at {
			at = e.Time
		}
	}
	if at < 0 {
		return start
	}
	return at
}

// spinLimit is how many calls on one fd that find it not ready yet one
// callback may make before it counts as spinning.
const spinLimit = 3

// spun returns the call that made a callback a spinner, or nil: the
// spinLimit-th call of one syscall on one fd in a
// single callback that found it not ready yet (connect's EINPROGRESS or
// EALREADY, EAGAIN, or a poll that saw nothing). Unlike the callback's
// length, which a machine short of CPU shrinks (a 300 ms spin gets 60 ms
// of CPU under heavy load), the count does not depend on the load. Calls
// from separate callbacks, such as connect again from a timer, never count
// together.
func spun(r *exercises.Run) *trace.Event {
	type key struct {
		name trace.NameID
		fd   int32
	}
	var counts map[key]int
	depth := 0
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Loop != 0 {
			continue
		}
		switch {
		case e.Kind == trace.KindHandler && e.Phase == trace.PhaseBegin:
			if depth == 0 {
				counts = map[key]int{}
			}
			depth++
		case e.Kind == trace.KindHandler && e.Phase == trace.PhaseEnd:
			depth = max(depth-1, 0)
		case e.Kind == trace.KindSyscall && e.Phase != trace.PhaseBegin && depth > 0 && notReady(r.Trace.Name(e.Name), e.Res):
			k := key{e.Name, e.Fd}
			counts[k]++
			if counts[k] == spinLimit {
				return e
			}
		}
	}
	return nil
}

// notReady reports whether a call named name that returned res found its
// fd not ready yet.
func notReady(name string, res int64) bool {
	switch {
	case res == -int64(linux.EINPROGRESS), res == -int64(linux.EALREADY), res == -int64(linux.EAGAIN):
		return true
	case res == 0:
		return name == "poll" || name == "ppoll" || name == "epoll_wait" || name == "epoll_pwait" || name == "select"
	}
	return false
}

// blockingConnect returns the first connect made while its socket was
// blocking (created without SOCK_NONBLOCK and not yet switched), or nil.
// Events are taken in order: a socket made non-blocking after the connect
// does not excuse it.
func blockingConnect(r *exercises.Run) *trace.Event {
	nonblock := map[int32]bool{}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Kind != trace.KindSyscall || e.Phase == trace.PhaseBegin {
			continue
		}
		switch r.Trace.Name(e.Name) {
		case "socket":
			if e.Res >= 0 {
				nonblock[int32(e.Res)] = e.Arg1&linux.SOCK_NONBLOCK != 0
			}
		case "fcntl":
			if e.Res >= 0 {
				nonblock[e.Fd] = e.Arg0 == 1
			}
		case "connect":
			if nb, known := nonblock[e.Fd]; known && !nb {
				return e
			}
		}
	}
	return nil
}

// waitsWritable passes when every SO_ERROR read came after the socket was
// reported writable (by the engine's watch, the handler's own epoll, a
// POLL_ADD, or the ring's CONNECT completion), and when a connect that
// returned EINPROGRESS was followed by waiting for writability at all.
//
// Calling connect again from a later callback (EALREADY, then the outcome)
// never blocks and learns the right answer: it passes, with a note that
// waiting for writability is the idiom. Calling it again in a loop inside
// one callback is a spin, which never-blocked fails.
func waitsWritable(r *exercises.Run) exercises.Outcome {
	pending := map[int32]*trace.Event{} // fd -> connect that returned EINPROGRESS
	writable := map[int32]bool{}
	waited := map[int32]bool{}
	var polled *trace.Event // a connect that answered EALREADY
	// Only what happened before the answer is the handler's: afterwards
	// the harness itself uses the socket.
	answered := int64(1<<63 - 1)
	if e := reportEvent(r); e != nil {
		answered = e.Time
	}
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Time > answered {
			break
		}
		if e.Kind == trace.KindSyscall && e.Phase == trace.PhaseBegin {
			continue
		}
		name := r.Trace.Name(e.Name)
		switch {
		case e.Kind == trace.KindSyscall && name == "connect" && e.Res == -int64(linux.EINPROGRESS):
			if _, ok := pending[e.Fd]; !ok {
				pending[e.Fd] = e
			}
		case e.Kind == trace.KindSyscall && name == "connect" && pending[e.Fd] != nil:
			// Connect again: EALREADY while the handshake runs, then its
			// outcome (0, EISCONN or the error). Polling is a way of
			// waiting, and the outcome tells how the handshake ended
			// without SO_ERROR.
			if e.Res == -int64(linux.EALREADY) && polled == nil {
				polled = e
			}
			waited[e.Fd] = true
			if e.Res != -int64(linux.EALREADY) {
				writable[e.Fd] = true
			}
		case e.Kind == trace.KindSyscall && name == "epoll_ctl" && e.Arg1&linux.EPOLLOUT != 0:
			waited[e.Fd] = true
		case e.Kind == trace.KindSubmit && (name == "POLL_ADD" || name == "CONNECT"):
			waited[e.Fd] = true
		case e.Kind == trace.KindReady && e.Arg0&(linux.EPOLLOUT|linux.EPOLLERR|linux.EPOLLHUP) != 0:
			writable[e.Fd] = true
		case e.Kind == trace.KindComplete && (name == "writable" || name == "CONNECT" || (name == "POLL_ADD" && e.Res > 0 && e.Res&(linux.POLLOUT|linux.POLLERR|linux.POLLHUP) != 0)):
			writable[e.Fd] = true
		case e.Kind == trace.KindSyscall && name == "getsockopt" && e.Arg0 == linux.SO_ERROR:
			if pending[e.Fd] != nil && !writable[e.Fd] {
				return exercises.Fail(r, e, "SO_ERROR was read on fd %d before the socket became writable: the handshake may still be running", e.Fd)
			}
		}
	}
	for fd, e := range pending {
		if !waited[fd] {
			return exercises.Fail(r, e, "connect on fd %d returned EINPROGRESS, but the handler never waited for the socket to become writable", fd)
		}
	}
	if polled != nil {
		return exercises.PassNote(r, polled, "you learned the outcome by calling connect again (EALREADY while the handshake runs). That works, but it is polling: the idiom is to wait until the socket is writable, then read SO_ERROR once")
	}
	return exercises.Pass()
}

// pendingWhenReported returns the connect whose socket the handler
// reported as connected before anything said the handshake was over (a
// writability report, a CONNECT completion, a second connect's outcome;
// an SO_ERROR read before any of them says nothing), or nil.
func pendingWhenReported(r *exercises.Run) *trace.Event {
	e := reportEvent(r)
	if r.Answer != "connected" || e == nil {
		return nil
	}
	var pending *trace.Event
	for i := range r.Trace.Events {
		ev := &r.Trace.Events[i]
		if ev.Time > e.Time {
			break
		}
		if ev.Kind == trace.KindSyscall && ev.Phase == trace.PhaseBegin {
			continue
		}
		name := r.Trace.Name(ev.Name)
		switch {
		case ev.Kind == trace.KindSyscall && name == "connect" && ev.Res == -int64(linux.EINPROGRESS):
			if pending == nil {
				pending = ev
			}
		case pending == nil || ev.Fd != pending.Fd:
		case ev.Kind == trace.KindSyscall && name == "connect" && ev.Res != -int64(linux.EALREADY),
			ev.Kind == trace.KindReady && ev.Arg0&(linux.EPOLLOUT|linux.EPOLLERR|linux.EPOLLHUP) != 0,
			ev.Kind == trace.KindComplete && (name == "writable" || name == "CONNECT" || name == "POLL_ADD" || name == "SEND"):
			return nil
		}
	}
	return pending
}

//go:embed handlers
var files embed.FS
