package readiness

import (
	"fmt"
	"math"

	"github.com/asynclab/asynclab/engine/linux"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/readiness/wire"
)

// view is what the checks read from one run's trace about the socket the
// harness gave the handler, up to the handler's answer (after it the
// harness closes the socket).
type view struct {
	fd int32 // the socket; -1 when the harness did not say
	// reads are the handler's own read(2) and recvfrom(2) calls on the
	// socket, made in its callbacks: not the loop's (its RECV emulation
	// on epoll reads between callbacks), not the harness's.
	reads []*trace.Event
	// readCB numbers the handler's callback each of reads was made in.
	readCB []int
	// fcntls are the handler's own fcntl calls on the socket, which make
	// it blocking (Arg0 0) or non-blocking (Arg0 1).
	fcntls []*trace.Event
	// ready are the reports that the socket is readable: each entry an
	// epoll_wait returned for it with an input event (EPOLLIN, EPOLLRDHUP,
	// EPOLLHUP, EPOLLERR), the loop's own or the handler's.
	ready []*trace.Event
	// recvSubmits and recvs are the RECV ops on the socket, submitted and
	// completed.
	recvSubmits []*trace.Event
	recvs       []*trace.Event
}

// inputEvents are the epoll bits that report something to read.
const inputEvents = linux.EPOLLIN | linux.EPOLLRDHUP | linux.EPOLLHUP | linux.EPOLLERR

// newView reads r's trace.
func newView(r *exercises.Run) *view {
	v := &view{fd: -1}
	fd, ok := r.Values[wire.ValueFD]
	if !ok || r.Trace == nil || fd < 0 || fd > math.MaxInt32 {
		return v
	}
	v.fd = int32(fd)
	until := answeredAt(r)
	inHandler := false // a callback of the handler's runs on the loop
	cb := 0            // callbacks of the handler's begun so far
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Time > until {
			break
		}
		if e.Loop != 0 {
			continue
		}
		if e.Kind == trace.KindHandler {
			inHandler = e.Phase == trace.PhaseBegin && !r.ByHarness(e)
			if inHandler {
				cb++
			}
			continue
		}
		if e.Fd != v.fd {
			continue
		}
		name := r.Trace.Name(e.Name)
		switch {
		case e.Kind == trace.KindSyscall && e.Phase == trace.PhaseInstant && inHandler && (name == "read" || name == "recvfrom"):
			v.reads = append(v.reads, e)
			v.readCB = append(v.readCB, cb)
		case e.Kind == trace.KindSyscall && e.Phase == trace.PhaseInstant && inHandler && name == "fcntl":
			v.fcntls = append(v.fcntls, e)
		case e.Kind == trace.KindReady && e.Arg0&inputEvents != 0:
			v.ready = append(v.ready, e)
		case e.Kind == trace.KindSubmit && name == "RECV":
			v.recvSubmits = append(v.recvSubmits, e)
		case e.Kind == trace.KindComplete && name == "RECV":
			v.recvs = append(v.recvs, e)
		}
	}
	return v
}

// answeredAt is when the handler answered, or the end of time.
func answeredAt(r *exercises.Run) int64 {
	if r.AnswerEvent != nil {
		return r.AnswerEvent.Time
	}
	return math.MaxInt64
}

// received is how many bytes the handler's own reads and its RECV ops
// took from the socket.
func (v *view) received() int64 {
	var n int64
	for _, e := range append(v.reads, v.recvs...) {
		n += max(e.Res, 0)
	}
	return n
}

// drained reports whether one of reads found the socket empty (EAGAIN) or
// closed (0).
func drained(reads []*trace.Event) bool {
	for _, e := range reads {
		if e.Res == -linux.EAGAIN || e.Res == 0 {
			return true
		}
	}
	return false
}

// readsBetween returns the reads made from from up to, not including, to.
func (v *view) readsBetween(from, to int64) []*trace.Event {
	var out []*trace.Event
	for _, e := range v.reads {
		if e.Time >= from && e.Time < to {
			out = append(out, e)
		}
	}
	return out
}

// count says n things: "1 read", "5 reads".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// ms is a trace time in milliseconds, for messages.
func ms(t int64) float64 { return float64(t) / 1e6 }
