// Package child is the cancel-race exercise's harness inside the sandbox.
// For each trial it starts a read, hands it to the handler, and races two
// goroutines of its own against it: a writer, which satisfies the read at
// some moment, and a canceller, which asks the handler to cancel it at
// another. It owns the buffers, so it sees when the handler gives one back
// and whether anything wrote into it afterwards, and it owns the other end
// of the socket, so it knows which bytes the read took and which it left.
package child

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/exercises/cancelrace/wire"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements. The harness calls it
// on the loop once per trial.
type Handler = func(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(),
	afterCancel func(f func(answer func(err error))))

// Timing of the trials. None of them is a limit a handler is judged by.
const (
	holdBack   = time.Second           // how long an early trial holds its bytes back for the cancel
	grace      = 30 * time.Millisecond // how long a trial waits for calls still due after its read ended
	holdMax    = 200 * time.Millisecond
	pollEvery  = 20 * time.Microsecond
	socketBuf  = 64   // bytes of a socket trial's buffer
	canaryByte = 0xC5 // the pattern a released buffer is filled with; no byte written ever has the top bit
)

// maxMarks bounds the marks one trial writes for a handler's calls, so that
// a handler calling report in a loop cannot flood the trace.
const maxMarks = 8

// Main runs the scenario's trials against h.
func Main(h Handler) {
	kit.Main(func(e *kit.Env) {
		hs, err := newHarness(e, h)
		if err != nil {
			e.Report("harness error: %v", err)
			return
		}
		hs.next()
	})
}

type harness struct {
	e   *kit.Env
	l   *engine.Loop
	h   Handler
	rec *trace.Recorder
	rng *rand.Rand

	file     bool
	rfd, wfd int    // socket: the handler's end, the writer's end
	ffd      int    // file: the file the reads read
	size     int    // file: its length
	pattern  []byte // file: what it holds, repeated from its start
	pool     [][]byte
	warm     time.Duration // file: the fastest whole read, reported as ValueFileRead

	trials []*trial
	cur    int

	reports, releases, answers, cancelFns, asked int
}

// trial is one read, its race, and everything the handler did about it.
// Fields below the line are touched on the loop only.
type trial struct {
	n    int
	kind wire.Kind
	buf  []byte

	cancelAsked atomic.Bool
	cancel      atomic.Pointer[cancelFunc] // what the handler registered with afterCancel
	ended       chan struct{}              // closed when the read's completion arrives
	reported    chan struct{}              // closed at the first report

	// ---- loop only
	op        *engine.Op
	id        uint64
	begun     int64
	chunk     []byte // the bytes the writer writes (socket)
	done      bool
	doneAt    int64
	res       int
	err       error
	reports   []report
	answers   []answer
	releases  []release
	clobbered int    // bytes found written into the buffer after an early release, when the read ended
	damaged   int    // bytes found changed in a released buffer when the trial ended
	left      []byte // what the read left in the socket
	over      bool
	marks     int
	graceSet  bool
	askDone   bool
	writeDone bool
}

type report struct {
	at      int64
	data    []byte // socket trials: a copy
	n       int
	err     error
	offLoop bool
	early   bool // before the read's completion
	same    bool // file trials: data is the file's first n bytes
	canary  bool // data holds the canary: it was read from a released buffer
}

type answer struct {
	at      int64
	err     error
	offLoop bool
}

type release struct {
	at      int64
	early   bool
	offLoop bool
}

func newHarness(e *kit.Env, h Handler) (*harness, error) {
	a := e.Args
	seed := rand.Uint64()
	hs := &harness{e: e, l: e.Loop, h: h, rec: e.Recorder, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	e.Value(wire.ValueSeed, float64(seed>>12))
	var plan []wire.Kind
	for _, k := range []wire.Kind{wire.Warm, wire.Race, wire.Early, wire.Busy, wire.Late, wire.File} {
		for range a.Int(wire.ParamCount(k), 0) {
			plan = append(plan, k)
		}
	}
	if len(plan) == 0 {
		return nil, errors.New("the scenario has no trials")
	}
	// The warm-ups come first; the rest in a random order, so that no
	// handler can count its way to the kind of the next trial.
	rest := plan
	for len(rest) > 0 && rest[0] == wire.Warm {
		rest = rest[1:]
	}
	hs.rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	for i, k := range plan {
		hs.trials = append(hs.trials, &trial{n: i + 1, kind: k, ended: make(chan struct{}), reported: make(chan struct{})})
	}
	switch src := a.Param(wire.ParamSource); src {
	case "socket":
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socketpair: %w", err)
		}
		hs.rfd, hs.wfd = fds[0], fds[1]
	case "file":
		hs.file = true
		if err := hs.openFile(a.Int(wire.ParamSize, 8<<20)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown source %q", src)
	}
	return hs, nil
}

// openFile writes the file the reads read into the box's /tmp (a tmpfs,
// so every read is a copy from the page cache) and opens it. The file is
// letters in a block of a prime length, repeated: no two pages alike.
func (hs *harness) openFile(size int) error {
	const block = 4099
	hs.pattern = make([]byte, 256*block)
	for i := range block {
		hs.pattern[i] = 'a' + byte((i*7+i>>5)%26)
	}
	for n := block; n < len(hs.pattern); n *= 2 {
		copy(hs.pattern[n:], hs.pattern[:n])
	}
	hs.size = size
	f, err := os.CreateTemp("", "cancelrace-*")
	if err != nil {
		return err
	}
	defer f.Close()
	os.Remove(f.Name())
	for off := 0; off < size; off += len(hs.pattern) {
		if _, err := f.Write(hs.pattern[:min(len(hs.pattern), size-off)]); err != nil {
			return fmt.Errorf("write the file: %w", err)
		}
	}
	fd, err := syscall.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the file: %w", err)
	}
	hs.ffd = fd
	return nil
}

// fileBytes reports whether data is the file's first len(data) bytes.
func (hs *harness) fileBytes(data []byte) bool {
	if len(data) > hs.size {
		return false
	}
	for off := 0; off < len(data); off += len(hs.pattern) {
		end := min(off+len(hs.pattern), len(data))
		if !bytes.Equal(data[off:end], hs.pattern[:end-off]) {
			return false
		}
	}
	return true
}

// next starts the next trial, or ends the run after the last.
func (hs *harness) next() {
	if hs.cur == len(hs.trials) {
		// Calls still due (a late answer) get a moment to arrive.
		hs.e.Harness().AfterFunc("harness: the last calls", grace, hs.finish)
		return
	}
	t := hs.trials[hs.cur]
	t.buf = hs.buffer()
	fill(t.buf)
	hs.l.Queue(fmt.Sprintf("Handle (your handler): trial %d (%s)", t.n, t.kind), func() { hs.begin(t) })
	if t.kind == wire.File {
		// Right after Handle, in the same turn of the loop: before the
		// read is submitted.
		hs.e.Harness().Queue(fmt.Sprintf("harness: cancel as the read starts (trial %d)", t.n), func() { hs.fileCancel(t) })
	}
}

// buffer returns a buffer for the next read: a small one for a socket, or
// one of the file's size that no read still in flight may write.
func (hs *harness) buffer() []byte {
	if !hs.file {
		return make([]byte, socketBuf)
	}
	if k := len(hs.pool); k > 0 {
		b := hs.pool[k-1]
		hs.pool = hs.pool[:k-1]
		return b
	}
	return make([]byte, hs.size)
}

// begin starts t's read, hands it to the handler and sets the race up. It
// runs as the handler's callback: the handler's calls are its own.
func (hs *harness) begin(t *trial) {
	l := hs.l
	if hs.file {
		// Async hands the read straight to an io-wq worker, which copies
		// the file for a few milliseconds: a cancel can find it running.
		t.op = l.Read(hs.ffd, t.buf, 0).Order(engine.Async)
	} else {
		t.op = l.Recv(hs.rfd, t.buf, 0)
	}
	t.id = t.op.ID()
	t.begun = hs.rec.Now()
	// The harness's continuation comes first in the read's completion
	// callback: it sees the completion before any of the handler's code.
	t.op.Then(func(n int, err error) { hs.completed(t, n, err) })
	hs.mark(wire.MarkStart+t.kind.String(), t, int64(t.kind), false, t.id)
	hs.h(l, t.op, hs.reporter(t), hs.releaser(t), hs.registrar(t))
	hs.race(t)
}

// race starts the writer and the canceller of t.
func (hs *harness) race(t *trial) {
	us := func(lo, hi int) time.Duration { return time.Duration(lo+hs.rng.IntN(hi-lo+1)) * time.Microsecond }
	t.chunk = hs.chunk(t)
	switch t.kind {
	case wire.Race:
		w := us(50, 800)
		c := max(0, w+us(0, 900)-600*time.Microsecond)
		go func() { time.Sleep(w); hs.write(t) }()
		go func() { time.Sleep(c); hs.ask(t) }()
	case wire.Early:
		go func() { time.Sleep(us(0, 100)); hs.ask(t) }()
		go func() {
			select {
			case <-t.ended:
			case <-time.After(holdBack):
			}
			hs.write(t)
		}()
	case wire.Busy:
		hs.e.Harness().Queue(fmt.Sprintf("harness: the loop is busy (trial %d)", t.n), func() { hs.busy(t) })
	case wire.Late:
		if hs.file {
			t.writeDone = true
		} else {
			go func() { time.Sleep(us(50, 400)); hs.write(t) }()
		}
		go func() {
			<-t.ended
			select {
			case <-t.reported:
			case <-time.After(grace):
			}
			hs.ask(t)
		}()
	case wire.Warm:
		t.writeDone, t.askDone = true, true
	case wire.File:
		t.writeDone = true // the cancel is asked for by fileCancel
	}
}

// fileCancel times t's cancel to land while an io-wq worker copies the
// file. Woken threads are slow on a loaded machine, as slow as the whole
// copy, so nothing that must wake may stand between the copy's start and
// the cancel: the canceller asks now, before the read is submitted, while
// this callback holds the loop; the handler's cancel is then queued on
// the loop behind holdUntilCopying, which holds the loop until the worker
// has copied a random part of the file. The loop, awake, then runs the
// handler's cancel at once, mid-copy.
func (hs *harness) fileCancel(t *trial) {
	var out atomic.Bool
	go func() {
		hs.ask(t)
		out.Store(true)
	}()
	for deadline := time.Now().Add(holdMax); !out.Load() && time.Now().Before(deadline); {
		time.Sleep(pollEvery)
	}
	at := int(float64(len(t.buf)) * (0.02 + 0.78*hs.rng.Float64()))
	hs.e.Harness().Queue(fmt.Sprintf("harness: the worker copies (trial %d)", t.n), func() { hs.holdUntilCopying(t, at) })
}

// holdUntilCopying holds the loop until the copy into t's buffer has
// reached offset at: the canary there is gone.
func (hs *harness) holdUntilCopying(t *trial, at int) {
	b := t.buf[at : at+1]
	// The kernel writes b while this reads it: a byte is either the canary
	// or the file's, and either answer is fine here.
	for deadline := time.Now().Add(holdMax); b[0] == canaryByte && time.Now().Before(deadline); {
		// Short sleeps, not a spin: a thread that spins uses up its share
		// of a loaded CPU and is put last in line just when the cancel
		// must go out; one that just woke is put first.
		time.Sleep(pollEvery)
	}
}

// busy holds the loop in a callback of the harness's while the writer
// writes t's bytes and then the canceller asks for the cancel: when the
// loop next looks, the read has data waiting and the cancel is queued
// behind it.
func (hs *harness) busy(t *trial) {
	var out atomic.Bool
	go func() {
		hs.write(t)
		hs.ask(t)
		out.Store(true)
	}()
	for deadline := time.Now().Add(holdMax); !out.Load() && time.Now().Before(deadline); {
	}
}

// chunk returns the bytes t's writer writes: printable, with the trial's
// number, 16 to 48 of them.
func (hs *harness) chunk(t *trial) []byte {
	if hs.file || t.kind == wire.Warm {
		return nil
	}
	s := fmt.Sprintf("trial %03d:", t.n)
	n := 16 + hs.rng.IntN(33)
	for len(s) < n {
		s += string(rune('a' + hs.rng.IntN(26)))
	}
	return []byte(s)
}

// write writes t's bytes to the writer's end, from a goroutine of the
// harness's, and records the moment the write returned.
func (hs *harness) write(t *trial) {
	_, err := syscall.Write(hs.wfd, t.chunk)
	at := hs.rec.Now()
	res := int64(len(t.chunk))
	if err != nil {
		res = -1
	}
	hs.foreign(wire.MarkWrote+fmt.Sprintf("%d bytes", len(t.chunk)), t, res, at)
	hs.e.Harness().Post("harness: bytes written", func() { t.writeDone = true; hs.settle(t) })
}

// ask asks for t's cancel, from a goroutine of the harness's: it calls the
// function the handler registered, if any, right here.
func (hs *harness) ask(t *trial) {
	f := t.cancel.Load()
	if f != nil {
		t.cancelAsked.Store(true)
		hs.foreign(wire.MarkAsked+"(the handler's cancel function runs on this goroutine)", t, 0, hs.rec.Now())
		(*f)(hs.answerer(t))
	}
	hs.e.Harness().Post("harness: cancel asked", func() {
		if f != nil {
			hs.asked++
		}
		t.askDone = true
		hs.settle(t)
	})
}

// completed is the harness's continuation of t's read, which runs before
// the handler's.
func (hs *harness) completed(t *trial, n int, err error) {
	t.done, t.doneAt, t.res, t.err = true, hs.rec.Now(), n, err
	close(t.ended)
	if len(t.releases) > 0 {
		// Released before now: whatever is not the canary was written
		// after the release, by the kernel.
		t.clobbered = len(t.buf) - bytes.Count(t.buf, []byte{canaryByte})
	}
	hs.settle(t)
}

// on runs fn on the loop: now if this is the loop's thread, and otherwise
// posted, reporting whether the call came from off the loop.
func (hs *harness) on(name string, fn func(offLoop bool)) {
	if hs.l.OnLoop() {
		fn(false)
		return
	}
	hs.e.Harness().Post(name, func() { fn(true) })
}

func (hs *harness) reporter(t *trial) func(data []byte, err error) {
	return func(data []byte, err error) {
		r := report{n: len(data), err: err}
		// The data is read now, as a caller expects of a function that
		// takes a slice: the handler may reuse its memory once this returns.
		if hs.file {
			r.same = hs.fileBytes(data)
		} else {
			r.data = bytes.Clone(data)
		}
		r.canary = bytes.Contains(data, []byte{canaryByte, canaryByte, canaryByte, canaryByte})
		hs.on("harness: report (called off the loop)", func(offLoop bool) {
			r.at, r.offLoop, r.early = hs.rec.Now(), offLoop, !t.done
			t.reports = append(t.reports, r)
			hs.reports++
			if len(t.reports) == 1 {
				close(t.reported)
			}
			res := int64(r.n)
			if err != nil {
				res = errnoRes(err)
			}
			hs.mark(wire.MarkReport+describe(r.n, err), t, res, offLoop, 0)
			hs.settle(t)
		})
	}
}

func (hs *harness) releaser(t *trial) func() {
	return func() {
		hs.on("harness: release (called off the loop)", func(offLoop bool) {
			t.releases = append(t.releases, release{at: hs.rec.Now(), early: !t.done, offLoop: offLoop})
			hs.releases++
			if len(t.releases) == 1 {
				// The pool hands a released buffer to its next user at
				// once, who overwrites it: here with the canary.
				fill(t.buf)
			}
			hs.mark(wire.MarkRelease+"the buffer", t, 0, offLoop, 0)
			hs.settle(t)
		})
	}
}

// cancelFunc is what a handler registers to be called when its read's
// cancel is asked for.
type cancelFunc = func(answer func(err error))

func (hs *harness) registrar(t *trial) func(f func(answer func(err error))) {
	return func(f func(answer func(err error))) {
		if f == nil {
			return
		}
		// Stored at once, wherever it is called from: the canceller reads
		// it from its own goroutine, even while the loop is busy.
		if t.cancel.Swap(&f) == nil {
			hs.on("harness: afterCancel (called off the loop)", func(bool) { hs.cancelFns++ })
		}
	}
}

func (hs *harness) answerer(t *trial) func(err error) {
	return func(err error) {
		hs.on("harness: answer (called off the loop)", func(offLoop bool) {
			t.answers = append(t.answers, answer{at: hs.rec.Now(), err: err, offLoop: offLoop})
			hs.answers++
			res := int64(0)
			if err != nil {
				res = errnoRes(err)
			}
			hs.mark(wire.MarkAnswer+AnswerName(err), t, res, offLoop, 0)
			hs.settle(t)
		})
	}
}

// settle ends t once its read is over and every call due has come, or a
// moment after its read is over and both goroutines are done.
func (hs *harness) settle(t *trial) {
	if t.over || !t.done || !t.writeDone || !t.askDone {
		return
	}
	complete := len(t.reports) > 0 && len(t.releases) > 0 && (!t.cancelAsked.Load() || len(t.answers) > 0)
	if complete {
		hs.e.Harness().Queue("harness: trial over", func() { hs.end(t) })
		return
	}
	if !t.graceSet {
		t.graceSet = true
		hs.e.Harness().AfterFunc("harness: trial over (some calls never came)", grace, func() { hs.end(t) })
	}
}

// end closes t: it takes what the read left in the socket, checks the
// released buffer's canary, and starts the next trial.
func (hs *harness) end(t *trial) {
	if t.over {
		return
	}
	t.over = true
	if !hs.file {
		var b [256]byte
		for {
			n, _, err := syscall.Recvfrom(hs.rfd, b[:], syscall.MSG_DONTWAIT)
			if n <= 0 || err != nil {
				break
			}
			t.left = append(t.left, b[:n]...)
		}
	}
	if len(t.releases) > 0 && !t.releases[0].early {
		t.damaged = len(t.buf) - bytes.Count(t.buf, []byte{canaryByte})
	}
	if hs.file {
		hs.pool = append(hs.pool, t.buf) // the read is over: no one writes it now
		// The first read also starts the ring's io-wq worker: the fastest
		// read, not the first, is how long the copy takes.
		if d := time.Duration(t.doneAt - t.begun); t.done && t.err == nil && (hs.warm == 0 || d < hs.warm) {
			hs.warm = d
		}
	}
	hs.rec.Emit(trace.Event{Kind: trace.KindMark, Time: hs.rec.Now(), Arg0: int64(t.n), Res: int64(t.outcome()),
		Op: t.id, Arg1: hs.e.Args.Tag, Fd: -1, Name: hs.rec.Intern(wire.MarkEnd + hs.story(t))})
	hs.cur++
	hs.next()
}

func (t *trial) outcome() wire.Outcome {
	switch {
	case !t.done:
		return wire.Pending
	case t.err == nil:
		return wire.Completed
	case errors.Is(t.err, sys.ECANCELED):
		return wire.Cancelled
	}
	return wire.Failed
}

// story tells t's trial for the timeline: "17 (race): bytes at 41.20 ms,
// cancel asked at 41.35 ms, read 24 B at 41.25 ms".
func (hs *harness) story(t *trial) string {
	parts := []string{fmt.Sprintf("%d (%s): read %s at %s", t.n, t.kind, describe(t.res, t.err), ms(t.doneAt))}
	if !t.done {
		parts[0] = fmt.Sprintf("%d (%s): the read never ended", t.n, t.kind)
	}
	if t.chunk != nil {
		parts = append(parts, fmt.Sprintf("%d B written, %d left in the socket", len(t.chunk), len(t.left)))
	}
	return strings.Join(parts, "; ")
}

// finish judges every trial, writes a problem mark for each failure, and
// reports.
func (hs *harness) finish() {
	problems := 0
	for _, t := range hs.trials {
		for _, p := range hs.judge(t) {
			problems++
			hs.rec.Emit(trace.Event{Kind: trace.KindMark, Time: hs.rec.Now(), Arg0: int64(t.n), Res: int64(p.index),
				Fd: int32(p.at), Op: t.id, Arg1: hs.e.Args.Tag,
				Name: hs.rec.Intern(wire.ProblemName(p.check, fmt.Sprintf("trial %d (%s): %s", t.n, t.kind, p.why)))})
		}
	}
	hs.e.Value(wire.ValueTrials, float64(len(hs.trials)))
	if hs.file {
		hs.e.Value(wire.ValueFileRead, float64(hs.warm))
	}
	hs.e.Value(wire.ValueReports, float64(hs.reports))
	hs.e.Value(wire.ValueReleases, float64(hs.releases))
	hs.e.Value(wire.ValueAnswers, float64(hs.answers))
	hs.e.Value(wire.ValueCancelFns, float64(hs.cancelFns))
	hs.e.Value(wire.ValueAsked, float64(hs.asked))
	hs.e.Report("%s", wire.Summary(len(hs.trials), problems))
}

// problem is one check a trial failed, and the moment it is about.
type problem struct {
	check string
	at    wire.Moment
	index int
	why   string
}

// judge returns the problems of t, one at most per check. The answers to
// cancels are judged by the grader, which sees the kernel's answer in the
// trace.
func (hs *harness) judge(t *trial) []problem {
	var out []problem
	add := func(check string, at wire.Moment, index int, format string, a ...any) {
		out = append(out, problem{check: check, at: at, index: index, why: fmt.Sprintf(format, a...)})
	}
	// once
	switch n := len(t.reports); {
	case n == 0 && t.done:
		add("once", wire.AtEnd, 0, "the read ended at %s (%s), and no report ever came", ms(t.doneAt), describe(t.res, t.err))
	case n == 0:
		add("once", wire.AtEnd, 0, "the read never ended and nothing was reported")
	case n > 1:
		add("once", wire.AtReport, 1, "reported %d times: first %s at %s, then %s at %s", n,
			describe(t.reports[0].n, t.reports[0].err), ms(t.reports[0].at), describe(t.reports[1].n, t.reports[1].err), ms(t.reports[1].at))
	}
	// after-completion
	for i, r := range t.reports {
		if r.offLoop {
			add("after-completion", wire.AtReport, i, "report (%s) was called off the loop's thread", describe(r.n, r.err))
			break
		}
		if r.early {
			when := "the read never ended"
			if t.done {
				when = fmt.Sprintf("the read's own completion came %s later, at %s, with %s", dur(t.doneAt-r.at), ms(t.doneAt), describe(t.res, t.err))
			}
			add("after-completion", wire.AtReport, i, "reported %s at %s, before the read had completed: %s",
				describe(r.n, r.err), ms(r.at), when)
			break
		}
	}
	// buffer-held
	early := len(t.releases) > 0 && t.releases[0].early
	switch {
	case len(t.releases) == 0 && (t.done || len(t.reports) > 0):
		add("buffer-held", wire.AtEnd, 0, "the buffer was never released")
	case len(t.releases) > 0 && t.releases[0].offLoop:
		add("buffer-held", wire.AtRelease, 0, "release was called off the loop's thread")
	case early && t.done && t.clobbered > 0:
		add("buffer-held", wire.AtRelease, 0, "the buffer was released at %s, %s before its read completed; the pool filled it with the canary, "+
			"and by the completion (%s) the kernel had written %d bytes over the canary", ms(t.releases[0].at), dur(t.doneAt-t.releases[0].at),
			describe(t.res, t.err), t.clobbered)
	case early && t.done:
		add("buffer-held", wire.AtRelease, 0, "the buffer was released at %s, %s before its read's own completion (%s): until then the kernel may still write into it",
			ms(t.releases[0].at), dur(t.doneAt-t.releases[0].at), describe(t.res, t.err))
	case early:
		add("buffer-held", wire.AtRelease, 0, "the buffer was released at %s, and its read never completed", ms(t.releases[0].at))
	case len(t.releases) > 1:
		add("buffer-held", wire.AtRelease, 1, "the buffer was released %d times", len(t.releases))
	case t.damaged > 0:
		add("buffer-held", wire.AtEnd, 0, "%d bytes of the buffer changed after it was released", t.damaged)
	}
	if len(t.reports) > 0 && t.reports[0].canary && !early {
		add("buffer-held", wire.AtReport, 0, "report delivered the canary the pool filled the buffer with: the buffer was read after it was released")
	}
	// no-loss: the first report against what the read took. A trial whose
	// buffer was given back too early is buffer-held's: its bytes were
	// overwritten by the buffer's next user.
	if len(t.reports) > 0 && t.done && !early && !t.reports[0].canary {
		if why := hs.lost(t, t.reports[0]); why != "" {
			add("no-loss", wire.AtReport, 0, "%s", why)
		}
	}
	// cancels
	if t.kind == wire.Early && t.cancelAsked.Load() && t.done && t.outcome() != wire.Cancelled {
		add("cancels", wire.AtCompletion, 0, "the cancel was asked for and the bytes held back until the read ended, "+
			"but the read ended at %s with %s, %s after it began", ms(t.doneAt), describe(t.res, t.err), dur(t.doneAt-t.begun))
	}
	return out
}

// lost says how the report r of t's read differs from what the read did,
// or "" if it delivered exactly the bytes the read took (and no others).
func (hs *harness) lost(t *trial, r report) string {
	took := t.res
	if t.err != nil {
		took = 0
	}
	switch {
	case t.outcome() == wire.Cancelled && (r.n > 0 || !errors.Is(r.err, sys.ECANCELED)):
		return fmt.Sprintf("the read was cancelled (ECANCELED), but the report said %s", describe(r.n, r.err))
	case t.outcome() == wire.Cancelled:
		return ""
	case took > 0 && r.n == 0:
		return fmt.Sprintf("the read took %d bytes from the %s at %s, but the report said %s: those bytes are lost",
			took, hs.source(), ms(t.doneAt), describe(r.n, r.err))
	case r.n != took || (r.err == nil) != (t.err == nil) || r.err != nil && !errors.Is(r.err, t.err):
		return fmt.Sprintf("the read took %s, but the report said %s", describe(t.res, t.err), describe(r.n, r.err))
	case hs.file && !r.same:
		return fmt.Sprintf("the report delivered %d bytes that are not the file's", r.n)
	case !hs.file:
		want := t.chunk[:max(0, len(t.chunk)-len(t.left))]
		if !bytes.Equal(r.data, want) {
			return fmt.Sprintf("the report delivered %q, but the read took %q", r.data, want)
		}
	}
	return ""
}

func (hs *harness) source() string {
	if hs.file {
		return "file"
	}
	return "socket"
}

// mark records one of the harness's moments on the loop.
func (hs *harness) mark(name string, t *trial, res int64, offLoop bool, op uint64) {
	if t.marks >= maxMarks && !strings.HasPrefix(name, wire.MarkStart) {
		return
	}
	t.marks++
	fd := int32(0)
	if offLoop {
		fd = 1
	}
	hs.rec.Emit(trace.Event{Kind: trace.KindMark, Time: hs.rec.Now(), Arg0: int64(t.n), Res: res, Op: op,
		Arg1: hs.e.Args.Tag, Fd: fd, Name: hs.rec.Intern(name)})
}

// foreign records a moment of one of the harness's goroutines.
func (hs *harness) foreign(name string, t *trial, res int64, at int64) {
	hs.rec.EmitForeign(trace.Event{Kind: trace.KindMark, Time: at, Arg0: int64(t.n), Res: res,
		Arg1: hs.e.Args.Tag, Fd: -1, Name: hs.rec.Intern(name)})
}

// fill fills b with the canary.
func fill(b []byte) {
	if len(b) == 0 {
		return
	}
	b[0] = canaryByte
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

func errnoRes(err error) int64 {
	var e syscall.Errno
	if errors.As(err, &e) {
		return -int64(e)
	}
	return wire.AnswerOther
}

// describe says what a read or report carried: "24 B", "ECANCELED".
func describe(n int, err error) string {
	var e syscall.Errno
	switch {
	case err == nil && n == 0:
		return "0 B, no error"
	case err == nil:
		return fmt.Sprintf("%d B", n)
	case errors.As(err, &e):
		return unix.ErrnoName(e)
	}
	return fmt.Sprintf("error %q", err.Error())
}

// AnswerName says what an answer to a cancel says: "0 (it stopped the
// read)", "EALREADY".
func AnswerName(err error) string {
	if err == nil {
		return "0 (stopped)"
	}
	return describe(0, err)
}

func ms(t int64) string { return fmt.Sprintf("%.3f ms", float64(t)/1e6) }

func dur(d int64) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
