// Package trace defines the event schema that every part of the lab shares
// (the trace pipe from a sandboxed child, the websocket, the store and the
// exports), a lock-free per-loop recorder, a binary codec with a strict
// decoder for untrusted input, lints computed from a trace, a text timeline
// and an exporter to Chrome Trace Event JSON.
//
// The engine owns the schema. Everything else decodes with [Decoder] and
// treats the trace as hostile input.
package trace

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is the schema version. It is written into every stream header and
// every decoded [Trace]; a decoder rejects any other version.
const Version = 1

// Kind says what an event describes.
type Kind uint8

// The event kinds. The zero value is invalid so that a zeroed record is
// never mistaken for an event.
const (
	KindInvalid  Kind = iota
	KindSyscall       // a real system call: Name, Fd, Res (or -errno), Dur; Phase Begin or Instant (see below)
	KindWakeup        // epoll_wait or io_uring_enter returned: Res = number of events
	KindSubmit        // an op entered the SQ (or was armed on epoll): Op, Fd, Name = opcode, Arg0 = SQE flags
	KindComplete      // an op's completion (CQE or emulated): Op, Res, Arg0 = CQE flags
	KindHandler       // a callback ran on the loop: Phase Begin or End, Name = handler, Arg0 = time it became ready (Begin), Arg1 = the harness's key for a harness's callback (Begin; see engine.Harness), else 0; with Config.HandlerCPU, End has Arg0 = loop thread CPU ns, Arg1 = its run-queue delay ns (runnable, waiting or CPU-quota throttled), so Dur-Arg0-Arg1 = time blocked
	KindFuture        // a future: Phase Create, Resolve or Wait; Op = future id, Name = future
	KindTimer         // a timer: Phase Create (armed), Fire or Cancel; Op = timer id, Arg0 = deadline, Arg1 = the harness's key for a harness's timer, else 0
	KindCounter       // a sampled counter: Name = counter, Res = value
	KindLint          // a problem found live or by analysis: Arg0 = LintCode, Name = subject
	KindMark          // a note the handler wrote itself: Name = text
	KindCancel        // a cancel request for an op: Op = target, Res = cancel result (annotation only)
	KindReady         // epoll_wait reported an fd ready: Fd, Arg0 = event mask, Arg1 = the epoll fd, Name = the call
	kindMax
)

// A system call is recorded once, when it returns: a KindSyscall event with
// PhaseInstant, whose Time is when the call began and Dur how long it took.
// A call that can put the thread to sleep (connect, accept4, read, write,
// recvfrom, sendto, pread, pwrite, epoll_wait) made on the loop thread is
// also recorded when it begins, and that record is published before the call
// is made: a KindSyscall event with PhaseBegin, the same Name, Fd and Time,
// and Dur and Res zero. The begin and the completed record that follows it on
// the same loop (same Name, Fd and Time) describe one call. A begin with no
// such record after it is an unfinished call: the thread was still inside it
// when the trace ended ([Trace.UnfinishedSyscalls]). Count calls by their
// PhaseInstant records plus the unfinished begins, never by every
// KindSyscall event.
//
// KindReady is one entry of what an epoll_wait returned: a descriptor and
// the events it is ready for. Both a handler's own epoll_wait (package sys)
// and the engine's epoll backend record one per returned entry, right after
// the call's own record, with Time = when the call returned. Fd is the
// entry's data as the fd it conventionally holds (-1 if it is negative),
// Arg0 its event mask (EPOLLIN, EPOLLOUT, ...; a uint32), Arg1 the epoll
// instance's fd. The backend leaves out its internal wakeup eventfd.

var kindNames = [...]string{
	KindInvalid:  "invalid",
	KindSyscall:  "syscall",
	KindWakeup:   "wakeup",
	KindSubmit:   "submit",
	KindComplete: "complete",
	KindHandler:  "handler",
	KindFuture:   "future",
	KindTimer:    "timer",
	KindCounter:  "counter",
	KindLint:     "lint",
	KindMark:     "mark",
	KindCancel:   "cancel",
	KindReady:    "ready",
}

// String returns the lowercase name used in JSON and text output.
func (k Kind) String() string {
	if k < kindMax {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a kind this schema version defines.
func (k Kind) Valid() bool { return k > KindInvalid && k < kindMax }

// Phase refines a kind: the begin and end of a handler, the life of a future
// or a timer. Instant events use PhaseInstant.
type Phase uint8

// The phases.
const (
	PhaseInstant Phase = iota
	PhaseBegin
	PhaseEnd
	PhaseCreate
	PhaseResolve
	PhaseWait
	PhaseFire
	PhaseCancel
	phaseMax
)

var phaseNames = [...]string{
	PhaseInstant: "instant",
	PhaseBegin:   "begin",
	PhaseEnd:     "end",
	PhaseCreate:  "create",
	PhaseResolve: "resolve",
	PhaseWait:    "wait",
	PhaseFire:    "fire",
	PhaseCancel:  "cancel",
}

// String returns the lowercase phase name.
func (p Phase) String() string {
	if p < phaseMax {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Valid reports whether p is a phase this schema version defines.
func (p Phase) Valid() bool { return p < phaseMax }

// LintCode names a problem found in a trace. It travels in Arg0 of a
// KindLint event.
type LintCode int64

// The lint codes.
const (
	LintNone           LintCode = iota
	LintLongHandler             // a handler ran longer than the threshold on the loop
	LintHeadOfLine              // a ready handler waited behind another long handler
	LintDeadlock                // a blocking Wait on the loop's own thread
	LintBlockingCall            // a blocking system call made on the loop thread
	LintPendingConnect          // a connect still in progress was used as if connected
	LintOffLoop                 // loop-owned state touched from another thread
	lintMax
)

var lintNames = [...]string{
	LintNone:           "none",
	LintLongHandler:    "long-handler",
	LintHeadOfLine:     "head-of-line",
	LintDeadlock:       "deadlock",
	LintBlockingCall:   "blocking-call",
	LintPendingConnect: "pending-connect",
	LintOffLoop:        "off-loop",
}

// String returns the lint's stable name, used in JSON and by checks.
func (c LintCode) String() string {
	if c >= 0 && c < lintMax {
		return lintNames[c]
	}
	return fmt.Sprintf("lint(%d)", int64(c))
}

// Valid reports whether c is a lint code this schema version defines.
func (c LintCode) Valid() bool { return c > LintNone && c < lintMax }

// NameID refers to a string in a trace's name table. Zero is the empty name.
type NameID uint32

// Event is one fixed-size trace record. Every field is a plain integer, so a
// recorder can copy it into a ring slot without allocating; strings live in
// the name table and are referenced by NameID.
type Event struct {
	Seq   uint64 // per-loop sequence number, starting at 1, assigned by the recorder
	Time  int64  // monotonic nanoseconds since the run started
	Dur   int64  // duration in nanoseconds, where the event spans time
	Op    uint64 // op, future or timer id; 0 when not applicable
	Res   int64  // result: >= 0 on success, -errno on failure; counter value
	Arg0  int64  // kind-specific argument (see the Kind constants)
	Arg1  int64  // kind-specific argument
	Fd    int32  // file descriptor, or -1
	Name  NameID // syscall, opcode, handler, future, counter or mark name
	Loop  uint16 // loop id within the run
	Kind  Kind
	Phase Phase
}

// RecordSize is the size in bytes of one encoded Event.
const RecordSize = 8*7 + 4 + 4 + 2 + 1 + 1

// Trace is a decoded run: its name table and its events in order.
type Trace struct {
	Version int
	Names   []string // indexed by NameID; Names[0] is ""
	Events  []Event
	Dropped uint64 // events the recorder dropped because its ring was full
}

// Name returns the string for id, or "" if id is out of range.
func (t *Trace) Name(id NameID) string {
	if int(id) < len(t.Names) {
		return t.Names[id]
	}
	return ""
}

// UnfinishedSyscalls returns the indices in t.Events of the syscall begins
// that no completed record follows (see [KindSyscall]): the calls a thread
// was still inside when the trace ended, in trace order.
func (t *Trace) UnfinishedSyscalls() []int {
	type call struct {
		loop uint16
		name NameID
		fd   int32
		time int64
	}
	var open map[call][]int
	n := 0
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind != KindSyscall {
			continue
		}
		k := call{e.Loop, e.Name, e.Fd, e.Time}
		switch e.Phase {
		case PhaseBegin:
			if open == nil {
				open = map[call][]int{}
			}
			open[k] = append(open[k], i)
			n++
		case PhaseInstant:
			if q := open[k]; len(q) > 0 {
				open[k] = q[1:]
				n--
			}
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]int, 0, n)
	for _, q := range open {
		out = append(out, q...)
	}
	slices.Sort(out)
	return out
}

// epollEventNames are the bits of an epoll event mask that epoll_wait
// reports, with their Linux values, in the order they are printed.
var epollEventNames = []struct {
	bit  int64
	name string
}{
	{0x1, "EPOLLIN"}, {0x2, "EPOLLPRI"}, {0x4, "EPOLLOUT"}, {0x8, "EPOLLERR"},
	{0x10, "EPOLLHUP"}, {0x20, "EPOLLNVAL"}, {0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"},
	{0x100, "EPOLLWRNORM"}, {0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {0x2000, "EPOLLRDHUP"},
	{1 << 28, "EPOLLEXCLUSIVE"}, {1 << 29, "EPOLLWAKEUP"}, {1 << 30, "EPOLLONESHOT"}, {1 << 31, "EPOLLET"},
}

// EpollEvents names the bits of an epoll event mask: "EPOLLIN|EPOLLOUT".
// Bits without a name are added in hex; an empty mask is "0".
func EpollEvents(mask int64) string {
	var b strings.Builder
	for _, n := range epollEventNames {
		if mask&n.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n.name)
			mask &^= n.bit
		}
	}
	if mask != 0 || b.Len() == 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x" + strconv.FormatInt(mask, 16))
	}
	if s := b.String(); s != "0x0" {
		return s
	}
	return "0"
}
