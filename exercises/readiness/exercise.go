// Package readiness is the readiness-versus-completion exercise: one
// 8000-byte message in five packets, received through epoll (level- and
// edge-triggered) and through io_uring (RECV with and without
// MSG_WAITALL), with the wakeups it costs counted from the trace.
package readiness

import (
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/linux"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/readiness/wire"
)

//go:embed instructions.md
var instructions string

//go:embed handlers
var files embed.FS

const (
	port = "7100"
	// gap is the pause before each paced packet: long enough that each
	// packet is its own wakeup on an idle machine, short enough that the
	// message is whole in about 50 ms.
	gap = 10 * time.Millisecond
	// timeout is how long a handler has to answer: some twenty times what
	// the message takes to arrive, so that only a handler that lost its
	// wakeup runs into it.
	timeout = time.Second
	// holdLimit is how long one callback, or one call in it, may hold the
	// loop: far above what a loaded machine adds to a quick callback (a
	// non-blocking read that found nothing once took 7.7 ms beside two
	// CPU hogs), far below a callback that waits for the whole message.
	// A read that waits for the next packet (at most a gap) is caught
	// without a threshold: it is a read on a socket the handler made
	// blocking (see blockingReads).
	holdLimit = 100 * time.Millisecond
	// spinLimit is how many reads that found the socket empty one callback
	// may make before it counts as spinning: a drain ends at the first.
	spinLimit = 3
)

// Exercise returns the exercise.
func Exercise() *exercises.Exercise {
	params := func(gap time.Duration, trigger string) map[string]string {
		p := map[string]string{wire.ParamPort: port, wire.ParamGap: gap.String()}
		if trigger != "" {
			p[wire.ParamTrigger] = trigger
		}
		return p
	}
	return &exercises.Exercise{
		Slug:         "readiness",
		Title:        "Readiness vs completion: one message, many wakeups",
		Topic:        "The Art of Not Waiting: readiness-based (epoll) and completion-based (io_uring) notification",
		Difficulty:   "core",
		Backends:     []backend.Kind{backend.Epoll, backend.Uring},
		Instructions: instructions,
		Predict:      prediction,
		Entry:        "Receive",
		Signature:    "func Receive(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error))",
		Child:        "github.com/asynclab/asynclab/exercises/readiness/child",
		Starter:      exercises.HandlerSource(files, "starter"),
		Reference:    exercises.HandlerSource(files, "reference"),
		Variants: []exercises.Variant{
			{Name: "edge_triggered_reads_once", Mistake: "reads once per wakeup on edge-triggered epoll",
				Source: exercises.HandlerSource(files, "edge_triggered_reads_once"), Fails: []string{"whole-message", "drains-on-edge"}},
			{Name: "edge_assumes_one_packet_per_wakeup", Mistake: "reads one packet's worth per wakeup, as if each wakeup were one packet",
				Source: exercises.HandlerSource(files, "edge_assumes_one_packet_per_wakeup"), Fails: []string{"whole-message", "drains-on-edge"}},
			{Name: "no_waitall_assumes_one_recv", Mistake: "takes one RECV without MSG_WAITALL for the whole message",
				Source: exercises.HandlerSource(files, "no_waitall_assumes_one_recv"), Fails: []string{"whole-message"}},
			{Name: "recv_loop_without_waitall", Mistake: "receives with a RECV per packet instead of one with MSG_WAITALL",
				Source: exercises.HandlerSource(files, "recv_loop_without_waitall"), Fails: []string{"one-completion"}},
			{Name: "blocking_socket_on_epoll", Mistake: "makes the socket blocking and waits in read for the rest of the message",
				Source: exercises.HandlerSource(files, "blocking_socket_on_epoll"), Fails: []string{"never-blocked"}},
		},
		Scenarios: []exercises.Scenario{
			{Name: "paced", Title: "five 1600-byte packets, 10 ms apart; level-triggered epoll",
				Params: params(gap, ""), Peer: peer(gap), Timeout: timeout},
			{Name: "paced-edge", Title: "the same packets; edge-triggered epoll",
				Params: params(gap, wire.TriggerEdge), Peer: peer(gap), Timeout: timeout},
			{Name: "unpaced-edge", Title: "the same packets back to back, all in the socket before the handler starts; edge-triggered epoll",
				Params: params(0, wire.TriggerEdge), Peer: peer(0), Timeout: timeout},
		},
		Checks: checks,
		Lints:  trace.LintOptions{LongHandler: holdLimit, BlockingCall: holdLimit},
		Judged: []trace.LintCode{trace.LintLongHandler, trace.LintBlockingCall},
		// The blocking and long-callback lints leave out the time the
		// loop's thread waited for a CPU, which a loaded machine adds.
		MeasureHandlers: true,
	}
}

var checks = []exercises.Check{
	{ID: "whole-message", Title: "The whole 8000-byte message is reported, byte for byte, in every scenario", Points: 30,
		Hint:    "One readiness report or one RECV completion is not the message: it is whatever had arrived. Keep reading (or ask the kernel for all of it with MSG_WAITALL) until you have size bytes, then call done once.",
		Reached: received,
		Eval:    exercises.EachRun(wholeMessage)},
	{ID: "never-blocked", Title: "The handler never blocks the loop", Points: 15,
		Hint:    "Leave the socket non-blocking and never wait for data inside a callback: read what is there, and on EAGAIN return to the loop, which calls you again when more arrives.",
		Reached: received,
		Eval:    exercises.EachRun(neverBlocked)},
	{ID: "drains-on-edge", Title: "Edge-triggered epoll: the handler reads to EAGAIN, so no wakeup is lost", Points: 30,
		Hint:    "Edge-triggered epoll reports the socket when data arrives, not while data is there. Before returning, read through your 1 KiB buffer until read says EAGAIN (or the message is whole): anything you leave is never reported again.",
		Reached: onEdge,
		Eval:    exercises.EachRun(drainsOnEdge)},
	{ID: "one-completion", Title: "io_uring: one RECV with MSG_WAITALL, one completion for the message", Points: 25,
		Hint:    "Without MSG_WAITALL a RECV completes as soon as any data is there, one packet at a time. Pass sys.MSG_WAITALL and the whole buffer: the kernel keeps receiving into it and completes once.",
		Reached: onRing,
		Eval:    exercises.EachRun(oneCompletion)},
}

// received reaches a check in a run where the handler read the socket or
// submitted a RECV on it: a handler that never tries earns nothing.
func received(r *exercises.Run) string {
	if v := newView(r); len(v.reads) == 0 && len(v.recvSubmits) == 0 {
		return "the handler never read the socket it was given"
	}
	return ""
}

// edge reports whether r ran on edge-triggered epoll.
func edge(r *exercises.Run) bool {
	return r.Backend == backend.Epoll && r.Scenario.Params[wire.ParamTrigger] == wire.TriggerEdge
}

// onEdge reaches drains-on-edge in the edge-triggered runs on epoll where
// the handler received at all.
func onEdge(r *exercises.Run) string {
	if why := received(r); why != "" {
		return why
	}
	if !edge(r) {
		return "only the edge-triggered scenarios on epoll show whether a handler drains"
	}
	return ""
}

// onRing reaches one-completion in the io_uring runs where the handler
// submitted a RECV on the socket.
func onRing(r *exercises.Run) string {
	v := newView(r)
	switch {
	case len(v.reads) == 0 && len(v.recvSubmits) == 0:
		return "the handler never read the socket it was given"
	case r.Backend != backend.Uring:
		return "this check grades the completions of io_uring"
	case len(v.recvSubmits) == 0:
		return "on io_uring the handler never submitted a RECV on the socket (waiting for readiness and reading is epoll's model, on any backend)"
	}
	return ""
}

// wholeMessage compares what the handler reported with what the peer
// sent, both as wire.Digest describes them.
func wholeMessage(r *exercises.Run) exercises.Outcome {
	sent := r.Obs.Get(obsMessage)
	v := newView(r)
	switch {
	case r.Error != "":
		return exercises.Fail(r, nil, "the run ended with %s", r.Error)
	case r.Answer == "" && r.TraceCut():
		return exercises.NotEvaluated(r, "the handler's answer is not known: %s", r.Incomplete())
	case sent == "":
		return exercises.NotEvaluated(r, "the trusted peer did not send its message (%s), so there is nothing to compare with", r.Obs.Get(obsPeer))
	case r.Answer == "":
		why := r.Never
		if why == "" {
			why = r.Incomplete()
		}
		return exercises.Fail(r, lastOf(v.reads, v.recvs), "the handler never answered (%s): %s, and the handler took %d of them from the socket",
			why, peerSent(r), v.received())
	case strings.HasPrefix(r.Answer, "error "):
		return exercises.Fail(r, r.AnswerEvent, "the handler reported %s: %s, and the handler took %d of them from the socket",
			r.Answer, peerSent(r), v.received())
	case r.Answer == sent:
		return exercises.Pass()
	}
	n, got, ok := wire.ParseDigest(r.Answer)
	_, want, _ := wire.ParseDigest(sent)
	switch {
	case !ok:
		return exercises.Fail(r, r.AnswerEvent, "the harness could not read the handler's answer %q", r.Answer)
	case n != wire.Size:
		return exercises.Fail(r, r.AnswerEvent, "the handler reported %d bytes; the peer sent %d, in %d packets of %d", n, wire.Size, wire.Packets, wire.Packet)
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			return exercises.Fail(r, r.AnswerEvent, "the handler reported %d bytes, but bytes %d to %d (packet %d of %d) are not what the peer sent",
				n, i*wire.Packet, (i+1)*wire.Packet-1, i+1, wire.Packets)
		}
	}
	return exercises.Fail(r, r.AnswerEvent, "the handler's message is not the one the peer sent")
}

// peerSent says how much of the message the peer sent.
func peerSent(r *exercises.Run) string {
	if r.Obs.Get(obsSent) == "" {
		return fmt.Sprintf("the peer had not sent all %d bytes (%s)", wire.Size, r.Obs.Get(obsPeer))
	}
	return fmt.Sprintf("the peer sent all %d bytes", wire.Size)
}

// lastOf returns the latest event of lists, or nil.
func lastOf(lists ...[]*trace.Event) *trace.Event {
	var last *trace.Event
	for _, l := range lists {
		if n := len(l); n > 0 && (last == nil || l[n-1].Time > last.Time) {
			last = l[n-1]
		}
	}
	return last
}

// neverBlocked fails a handler that kept the loop's thread waiting: reads
// on a socket it made blocking, a blocking call, a long callback, or a
// callback that spun on EAGAIN.
func neverBlocked(r *exercises.Run) exercises.Outcome {
	// First what does not depend on the machine's load: a read on a
	// blocking socket waits whenever the next packet is not there yet,
	// however long that is.
	if made, longest, n := blockingReads(r); made != nil {
		waited := "; here the data was always there already, but nothing promises that"
		if longest.Dur >= int64(time.Millisecond) {
			waited = fmt.Sprintf("; the longest read here waited %.1f ms", ms(longest.Dur))
		}
		return exercises.Fail(r, longest, "the handler made fd %d blocking at %.1f ms (fcntl) and then read it %s: a read on a blocking socket waits on the loop's thread until data comes, and every other callback waits with it%s",
			made.Fd, ms(made.Time), count(n, "time"), waited)
	}
	// The blocking call is the more precise finding: it names the call
	// the loop was stuck in, not only the callback.
	if o, found := exercises.FailOnFinding(r, r.Findings, trace.LintBlockingCall); found {
		return o
	}
	if o, found := exercises.FailOnLongHandler(r); found {
		return o
	}
	if strings.Contains(r.Error, "held the loop") {
		return exercises.Fail(r, nil, "a callback held the loop until the harness gave up: %s", r.Error)
	}
	if e, n := spun(r); e != nil {
		return exercises.Fail(r, e, "%s on fd %d found the socket empty (EAGAIN) %d times in one callback: the callback spun instead of returning to the loop, which calls it again when data arrives",
			r.Trace.Name(e.Name), e.Fd, n)
	}
	return exercises.Pass()
}

// msgDontWait is MSG_DONTWAIT, which makes one recvfrom non-blocking on a
// blocking socket.
const msgDontWait = 0x40

// blockingReads returns the handler's fcntl that made the socket blocking,
// the longest of the handler's reads of it while it was blocking, and how
// many there were; made is nil when there were none.
func blockingReads(r *exercises.Run) (made, longest *trace.Event, n int) {
	v := newView(r)
	var since *trace.Event // the fcntl that made the socket blocking, while it is
	next := 0              // the first of v.fcntls not yet applied
	for _, e := range v.reads {
		// Both lists are in trace order, on one loop: apply the fcntls
		// made before this read.
		for ; next < len(v.fcntls) && v.fcntls[next].Seq < e.Seq; next++ {
			if f := v.fcntls[next]; f.Res == 0 && f.Arg0 == 0 {
				since = f
			} else if f.Res == 0 {
				since = nil
			}
		}
		if since == nil || r.Trace.Name(e.Name) == "recvfrom" && e.Arg1&msgDontWait != 0 {
			continue
		}
		if made == nil {
			made = since
		}
		if n++; longest == nil || e.Dur > longest.Dur {
			longest = e
		}
	}
	return made, longest, n
}

// spun returns the read that made one of the handler's callbacks a
// spinner (its spinLimit-th EAGAIN on the socket) and how many EAGAINs
// that callback got in all. Unlike the callback's length, the count does
// not depend on the machine's load.
func spun(r *exercises.Run) (*trace.Event, int) {
	v := newView(r)
	var at *trace.Event
	n, cb := 0, -1
	for i, e := range v.reads {
		if v.readCB[i] != cb {
			if at != nil {
				break
			}
			n, cb = 0, v.readCB[i]
		}
		if e.Res == -linux.EAGAIN {
			if n++; n == spinLimit {
				at = e
			}
		}
	}
	return at, n
}

// drainsOnEdge fails an edge-triggered run in which the handler lost a
// wakeup: after the last time epoll reported the socket readable, its
// reads never found the socket empty, and the message was not whole. It
// points at that report, the moment the wait that never ends began.
func drainsOnEdge(r *exercises.Run) exercises.Outcome {
	v := newView(r)
	for _, e := range v.reads {
		if e.Arg0 > wire.Chunk {
			return exercises.Fail(r, e, "%s asked for %d bytes at %.1f ms, more than the %d-byte read buffer the task gives you: a read that large takes all there is at once, which hides whether the handler drains the socket",
				r.Trace.Name(e.Name), e.Arg0, ms(e.Time), wire.Chunk)
		}
	}
	if len(v.reads) == 0 {
		return exercises.Fail(r, v.recvSubmits[0], "on edge-triggered epoll the handler never read the socket itself: it submitted a RECV, and the loop's emulation of RECV on epoll reads to EAGAIN for it. Wait with l.OnReadable and read through your %d-byte buffer: your own draining is what is graded here",
			wire.Chunk)
	}
	got := v.received()
	if got >= wire.Size || len(v.ready) == 0 {
		// Whole, or never told the socket was readable: no wakeup was
		// lost (whole-message judges a handler that never listened).
		return exercises.Pass()
	}
	if r.Obs.Get(obsSent) == "" {
		return exercises.NotEvaluated(r, "the trusted peer did not send its whole message (%s), so waiting for more is not a lost wakeup", r.Obs.Get(obsPeer))
	}
	last := v.ready[len(v.ready)-1]
	after := v.readsBetween(last.Time, answeredAt(r))
	if drained(after) {
		return exercises.Pass()
	}
	var took int64
	for _, e := range after {
		took += max(e.Res, 0)
	}
	undrained := 0
	for i, e := range v.ready {
		to := answeredAt(r)
		if i+1 < len(v.ready) {
			to = v.ready[i+1].Time
		}
		if !drained(v.readsBetween(e.Time, to)) {
			undrained++
		}
	}
	end := "when the handler answered"
	if r.Answer == "" {
		end = "and the handler waited until the run's limit for a report that never came"
	}
	msg := fmt.Sprintf("at %.1f ms epoll reported fd %d readable for the last time; after it the handler took %d bytes in %s, and no read said EAGAIN. "+
		"Edge-triggered epoll reports a socket again only when new data arrives, and the peer had sent all %d bytes: %d were still in the socket %s",
		ms(last.Time), v.fd, took, count(len(after), "read"), wire.Size, wire.Size-got, end)
	if undrained > 1 {
		msg += fmt.Sprintf(". %d of the %d readiness reports were left undrained; each time but the last, the next packet's arrival reported the socket again", undrained, len(v.ready))
	}
	return exercises.Fail(r, last, "%s", msg)
}

// oneCompletion fails an io_uring run in which the message took more than
// one RECV completion, pointing at the second.
func oneCompletion(r *exercises.Run) exercises.Outcome {
	v := newView(r)
	if len(v.recvs) <= 1 {
		return exercises.Pass()
	}
	sizes := make([]string, len(v.recvs))
	for i, e := range v.recvs {
		if e.Res < 0 {
			sizes[i] = trace.ErrnoName(-e.Res)
		} else {
			sizes[i] = fmt.Sprint(e.Res)
		}
	}
	return exercises.Fail(r, v.recvs[1], "the message took %d RECV completions (%s bytes): a RECV completes as soon as it has any data, about a packet at a time, unless MSG_WAITALL asks the kernel to fill the whole buffer first. One RECV of all %d bytes with MSG_WAITALL completes once",
		len(v.recvs), strings.Join(sizes, ", "), wire.Size)
}
