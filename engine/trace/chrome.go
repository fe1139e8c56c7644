package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Chrome Trace Event threads, one set per loop (pid = loop+1).
const (
	chromeTidHandlers = 1 // handler runs, submits, marks, futures, timers, lints
	chromeTidSyscalls = 2 // system calls and wakeups
	chromeTidKernel   = 3 // ops in flight, as async slices
	chromeTidFd       = 8 // fd N's track is tid chromeTidFd+N: readiness epoll_wait reported for it
)

// cqeFMore is IORING_CQE_F_MORE: the op stays armed and more CQEs follow.
const cqeFMore = 1 << 1

// chromeEvent is one Chrome Trace Event. Field order is the JSON order.
type chromeEvent struct {
	Name    string         `json:"name"`
	Cat     string         `json:"cat,omitempty"`
	Ph      string         `json:"ph"`
	Ts      float64        `json:"ts"`
	Dur     *float64       `json:"dur,omitempty"`
	Pid     int            `json:"pid"`
	Tid     int            `json:"tid"`
	S       string         `json:"s,omitempty"`
	ID2     *chromeID2     `json:"id2,omitempty"`
	BindID  uint64         `json:"bind_id,omitempty"`
	FlowIn  bool           `json:"flow_in,omitempty"`
	FlowOut bool           `json:"flow_out,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
}

type chromeID2 struct {
	Local string `json:"local"`
}

// opKey names one op on one loop; op ids are only unique within a loop.
type opKey struct {
	loop uint16
	op   uint64
}

// opRun is one life of an op, from its submit to its final completion.
type opRun struct {
	key     opKey
	name    string
	submit  int // index of the submit event
	handler int // index of the handler Begin it woke, or -1
	flow    uint64
}

// WriteChrome writes t as Chrome Trace Event JSON in object form, which
// Perfetto (ui.perfetto.dev) and chrome://tracing open. Each loop is a
// process (pid loop+1) with three threads: "handlers" (tid 1), "syscalls"
// (tid 2) and "kernel" (tid 3, ops in flight), plus one per fd that an
// epoll_wait reported ready ("fd N", tid 8+N). The mapping:
//   - a handler Begin/End pair is a complete ("X") slice on tid 1; a handler
//     still running when the trace ends lasts to the end of the trace;
//   - a syscall is an X slice on tid 2 starting at its Time, lasting Dur,
//     drawn from its completed record; its begin is drawn only if the call
//     never returned, as an X slice to the end of the trace with args
//     unfinished: true;
//   - a ready event (what an epoll_wait returned) is a thread-scoped
//     instant on the fd's own track (tid 8+fd, named "fd N"), named by its
//     mask ("EPOLLIN|EPOLLOUT"), args fd, events, mask, epfd and the call;
//   - a submit is a zero-length X slice on tid 1 (inside the handler that
//     submitted, if the backend submits at once rather than in a batch after
//     the handlers), and the op is an async nestable "b"/"e" slice from submit
//     to completion, keyed by op id (cat "io", name = opcode, args fd, res,
//     flags). A completion with IORING_CQE_F_MORE is an async instant inside
//     the slice; an op still in flight at the end is closed there;
//   - v2 flow arrows (bind_id, flow_out/flow_in) go from the submit through
//     the op slice to the handler the completion woke: the handler whose
//     Begin names the op in Arg1 (or, as the engine records it, in Op) when
//     set; otherwise the next handler to begin on that loop after the
//     completion, matching completions to handlers first in, first out,
//     because the engine queues each callback right after its completion;
//   - wakeups are thread-scoped instants on tid 2; counters are "C" events;
//     lints, marks, futures, timers and cancels are instants.
//
// Timestamps are microseconds (floats, so nanoseconds survive).
func WriteChrome(w io.Writer, t *Trace) error {
	d := NewChromeDoc(w)
	d.Track("", t)
	return d.Close()
}

// ChromeDoc writes several traces, the tracks of one run, as one Chrome
// Trace Event document, one track at a time, so that only one is in
// memory: each track's loops are processes of their own, named after the
// track ("listener on epoll: loop 0"), and its op and flow ids stay its
// own. Call Track for each, then Close.
type ChromeDoc struct {
	bw     *bufio.Writer
	enc    *json.Encoder
	n      int    // events written
	tracks int    // tracks written
	flows  uint64 // flow ids used
	err    error
}

// NewChromeDoc starts a document on w.
func NewChromeDoc(w io.Writer) *ChromeDoc {
	d := &ChromeDoc{bw: bufio.NewWriter(w)}
	d.enc = json.NewEncoder(d.bw)
	d.enc.SetEscapeHTML(false)
	_, d.err = d.bw.WriteString(`{"displayTimeUnit":"ns","traceEvents":[` + "\n")
	return d
}

// Track writes t, named name ("" for a document of one track).
func (d *ChromeDoc) Track(name string, t *Trace) {
	if d.err != nil {
		return
	}
	// A track's loops are processes d.tracks<<16 + loop + 1: loop ids
	// are 16 bits.
	cw := &chromeWriter{t: t, w: d.bw, enc: d.enc, n: d.n, pidBase: d.tracks << 16, flows: d.flows, label: name}
	cw.plan()
	cw.emitAll()
	d.n, d.flows, d.err = cw.n, cw.flows, cw.err
	d.tracks++
}

// Close ends the document and flushes it.
func (d *ChromeDoc) Close() error {
	if d.err == nil {
		_, d.err = d.bw.WriteString("]}\n")
	}
	if d.err == nil {
		d.err = d.bw.Flush()
	}
	if d.err != nil {
		return fmt.Errorf("trace: write chrome json: %w", d.err)
	}
	return nil
}

type chromeWriter struct {
	t       *Trace
	w       *bufio.Writer
	enc     *json.Encoder
	n       int // events written, in the whole document
	err     error
	pidBase int    // added to each loop's pid
	flows   uint64 // flow ids used so far in the document
	label   string // the track's name, "" for a document of one
	end     int64  // end of the trace: the latest Time+Dur
	loops   []uint16
	fds     map[uint16][]int32 // per loop, the fds with ready events, in order

	spanEnd []int64  // for a handler Begin: its end time, else unused
	stuck   []bool   // for a syscall Begin: the call never returned
	runOf   []*opRun // for a submit, completion or cancel: its op run
	woke    []*opRun // for a handler Begin: the op whose completion it runs
	final   []bool   // for a completion: it ends its op run
	open    []*opRun // runs never completed, closed at the end
}

// plan pairs handler begins with ends, submits with completions, and
// completions with the handlers they woke.
func (c *chromeWriter) plan() {
	evs := c.t.Events
	c.spanEnd = make([]int64, len(evs))
	c.runOf = make([]*opRun, len(evs))
	c.woke = make([]*opRun, len(evs))
	c.final = make([]bool, len(evs))
	c.stuck = make([]bool, len(evs))
	for _, i := range c.t.UnfinishedSyscalls() {
		c.stuck[i] = true
	}

	explicit := map[opKey]bool{}
	seen := map[uint16]bool{}
	seenFd := map[opKey]bool{}
	c.fds = map[uint16][]int32{}
	for _, e := range evs {
		c.end = max(c.end, eventEnd(&e))
		if !seen[e.Loop] {
			seen[e.Loop] = true
			c.loops = append(c.loops, e.Loop)
		}
		if k := (opKey{e.Loop, uint64(e.Fd)}); e.Kind == KindReady && e.Fd >= 0 && !seenFd[k] {
			seenFd[k] = true
			c.fds[e.Loop] = append(c.fds[e.Loop], e.Fd)
		}
		if id := wakeID(e); id != 0 {
			explicit[opKey{e.Loop, id}] = true
		}
	}
	slices.Sort(c.loops)

	stacks := map[uint16][]int{}
	inflight := map[opKey]*opRun{}
	waiting := map[opKey]*opRun{} // completed, to be claimed by a handler naming it
	fifo := map[uint16][]*opRun{} // completed, to be claimed by the next handler
	claim := func(run *opRun, i int) {
		c.flows++
		run.handler, run.flow = i, c.flows
		c.woke[i] = run
	}
	for i, e := range evs {
		key := opKey{e.Loop, e.Op}
		switch e.Kind {
		case KindHandler:
			switch e.Phase {
			case PhaseBegin:
				stacks[e.Loop] = append(stacks[e.Loop], i)
				c.spanEnd[i] = -1
				if id := wakeID(e); id != 0 {
					k := opKey{e.Loop, id}
					if run := waiting[k]; run != nil {
						delete(waiting, k)
						claim(run, i)
					}
				} else if q := fifo[e.Loop]; len(q) > 0 {
					fifo[e.Loop] = q[1:]
					claim(q[0], i)
				}
			case PhaseEnd:
				if s := stacks[e.Loop]; len(s) > 0 {
					c.spanEnd[s[len(s)-1]] = e.Time
					stacks[e.Loop] = s[:len(s)-1]
				}
			}
		case KindSubmit:
			if e.Op == 0 {
				continue
			}
			run := &opRun{key: key, name: c.t.Name(e.Name), submit: i, handler: -1}
			if old := inflight[key]; old != nil {
				c.open = append(c.open, old) // resubmitted without a completion
			}
			inflight[key] = run
			c.runOf[i] = run
		case KindCancel:
			c.runOf[i] = inflight[key] // drawn inside the op's slice while it is in flight
		case KindComplete:
			run := inflight[key]
			if e.Op == 0 || run == nil {
				continue
			}
			c.runOf[i] = run
			if e.Arg0&cqeFMore != 0 {
				continue
			}
			c.final[i] = true
			delete(inflight, key)
			if explicit[key] {
				waiting[key] = run
			} else {
				fifo[e.Loop] = append(fifo[e.Loop], run)
			}
		}
	}
	for _, run := range inflight {
		c.open = append(c.open, run)
	}
	slices.SortFunc(c.open, func(a, b *opRun) int { return a.submit - b.submit })
}

// wakeID returns the op a handler Begin says woke it, or 0.
func wakeID(e Event) uint64 {
	if e.Kind != KindHandler || e.Phase != PhaseBegin {
		return 0
	}
	if e.Arg1 != 0 {
		return uint64(e.Arg1)
	}
	return e.Op
}

// pid is the process of loop l.
func (c *chromeWriter) pid(l uint16) int { return c.pidBase + int(l) + 1 }

func (c *chromeWriter) emitAll() {
	for _, l := range c.loops {
		pid := c.pid(l)
		name := "loop " + strconv.Itoa(int(l))
		if c.label != "" {
			name = c.label + ": " + name
		}
		c.write(chromeEvent{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{"name": name}})
		c.write(chromeEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: chromeTidHandlers, Args: map[string]any{"name": "handlers"}})
		c.write(chromeEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: chromeTidSyscalls, Args: map[string]any{"name": "syscalls"}})
		c.write(chromeEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: chromeTidKernel, Args: map[string]any{"name": "kernel"}})
		fds := c.fds[l]
		slices.Sort(fds)
		for _, fd := range fds {
			c.write(chromeEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: chromeTidFd + int(fd),
				Args: map[string]any{"name": "fd " + strconv.Itoa(int(fd))}})
		}
	}
	for i := range c.t.Events {
		c.event(i)
	}
	for _, run := range c.open {
		c.write(chromeEvent{Name: run.name, Cat: "io", Ph: "e", Ts: micros(max(c.end, c.t.Events[run.submit].Time)),
			Pid: c.pid(run.key.loop), Tid: chromeTidKernel, ID2: opID(run.key.op),
			Args: map[string]any{"unfinished": true}})
	}
}

func (c *chromeWriter) event(i int) {
	e := c.t.Events[i]
	pid := c.pid(e.Loop)
	name := c.t.Name(e.Name)
	instant := func(tid int, name string, args map[string]any) {
		c.write(chromeEvent{Name: name, Ph: "i", S: "t", Ts: micros(e.Time), Pid: pid, Tid: tid, Args: args})
	}
	switch e.Kind {
	case KindHandler:
		switch e.Phase {
		case PhaseBegin:
			end, args := c.spanEnd[i], map[string]any{"seq": e.Seq}
			if end < 0 {
				end = c.end
				args["unfinished"] = true
			}
			if e.Arg0 > 0 && e.Arg0 <= e.Time {
				args["queued_us"] = micros(e.Time - e.Arg0)
			}
			ce := chromeEvent{Name: name, Ph: "X", Ts: micros(e.Time), Dur: durUS(max(end, e.Time) - e.Time),
				Pid: pid, Tid: chromeTidHandlers, Args: args}
			if run := c.woke[i]; run != nil {
				ce.BindID, ce.FlowIn = run.flow, true
				args["op"] = opHex(run.key.op)
			}
			c.write(ce)
		case PhaseEnd:
			// Drawn by its Begin.
		default:
			instant(chromeTidHandlers, name+" "+e.Phase.String(), nil)
		}
	case KindSubmit:
		run := c.runOf[i]
		args := map[string]any{"fd": e.Fd, "op": opHex(e.Op), "flags": e.Arg0}
		sub := chromeEvent{Name: "submit " + name, Cat: "io", Ph: "X", Ts: micros(e.Time), Dur: durUS(0),
			Pid: pid, Tid: chromeTidHandlers, Args: args}
		if run == nil {
			c.write(sub)
			return
		}
		if run.handler >= 0 {
			sub.BindID, sub.FlowOut = run.flow, true
		}
		c.write(sub)
		b := chromeEvent{Name: name, Cat: "io", Ph: "b", Ts: micros(e.Time), Pid: pid, Tid: chromeTidKernel,
			ID2: opID(e.Op), Args: map[string]any{"fd": e.Fd, "flags": e.Arg0}}
		if run.handler >= 0 {
			b.BindID, b.FlowIn, b.FlowOut = run.flow, true, true
		}
		c.write(b)
	case KindComplete:
		args := map[string]any{"res": e.Res, "flags": e.Arg0}
		if s := errnoString(e.Res); s != "" {
			args["errno"] = s
		}
		run := c.runOf[i]
		if run == nil {
			args["fd"], args["op"] = e.Fd, opHex(e.Op)
			instant(chromeTidKernel, "complete "+name, args)
			return
		}
		ts := micros(max(e.Time, c.t.Events[run.submit].Time))
		ph := "n"
		if c.final[i] {
			ph = "e"
		}
		c.write(chromeEvent{Name: run.name, Cat: "io", Ph: ph, Ts: ts, Pid: pid, Tid: chromeTidKernel,
			ID2: opID(e.Op), Args: args})
	case KindSyscall:
		if e.Phase == PhaseBegin {
			if c.stuck[i] {
				c.write(chromeEvent{Name: name, Cat: "syscall", Ph: "X", Ts: micros(e.Time), Dur: durUS(c.end - e.Time),
					Pid: pid, Tid: chromeTidSyscalls, Args: map[string]any{"fd": e.Fd, "unfinished": true}})
			}
			return // else drawn by its record
		}
		args := map[string]any{"fd": e.Fd, "res": e.Res}
		if s := errnoString(e.Res); s != "" {
			args["errno"] = s
		}
		c.write(chromeEvent{Name: name, Cat: "syscall", Ph: "X", Ts: micros(e.Time), Dur: durUS(e.Dur),
			Pid: pid, Tid: chromeTidSyscalls, Args: args})
	case KindReady:
		tid := chromeTidSyscalls // the entry's data was not an fd
		if e.Fd >= 0 {
			tid = chromeTidFd + int(e.Fd)
		}
		instant(tid, EpollEvents(e.Arg0),
			map[string]any{"fd": e.Fd, "events": EpollEvents(e.Arg0), "mask": e.Arg0, "epfd": e.Arg1, "call": name})
	case KindWakeup:
		instant(chromeTidSyscalls, "wakeup", map[string]any{"events": e.Res, "call": name})
	case KindCounter:
		c.write(chromeEvent{Name: name, Ph: "C", Ts: micros(e.Time), Pid: pid, Tid: chromeTidHandlers,
			Args: map[string]any{"value": e.Res}})
	case KindLint:
		code := LintCode(e.Arg0)
		instant(chromeTidHandlers, "lint: "+code.String(), map[string]any{"message": name, "code": code.String()})
	case KindMark:
		instant(chromeTidHandlers, name, map[string]any{"message": name})
	case KindFuture:
		instant(chromeTidHandlers, "future "+e.Phase.String()+" "+name, map[string]any{"id": e.Op})
	case KindTimer:
		instant(chromeTidHandlers, "timer "+e.Phase.String()+" "+name,
			map[string]any{"id": e.Op, "deadline_us": micros(e.Arg0)})
	case KindCancel:
		args := map[string]any{"res": e.Res, "cancel": true}
		if run := c.runOf[i]; run != nil {
			c.write(chromeEvent{Name: run.name, Cat: "io", Ph: "n", Ts: micros(max(e.Time, c.t.Events[run.submit].Time)),
				Pid: pid, Tid: chromeTidKernel, ID2: opID(e.Op), Args: args})
			return
		}
		args["op"] = opHex(e.Op)
		instant(chromeTidKernel, "cancel", args)
	default:
		instant(chromeTidHandlers, e.Kind.String(), nil)
	}
}

func (c *chromeWriter) write(ev chromeEvent) {
	if c.err != nil {
		return
	}
	if c.n > 0 {
		// The encoder ends each value with a newline; the comma goes first.
		if err := c.w.WriteByte(','); err != nil {
			c.err = err
			return
		}
	}
	c.n++
	c.err = c.enc.Encode(ev)
}

func micros(ns int64) float64 { return float64(ns) / 1e3 }

func durUS(ns int64) *float64 {
	v := micros(max(ns, 0))
	return &v
}

func opID(op uint64) *chromeID2 { return &chromeID2{Local: opHex(op)} }

func opHex(op uint64) string { return "0x" + strconv.FormatUint(op, 16) }
