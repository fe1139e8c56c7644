// Package child is the ordering exercise's harness inside the sandbox. It
// calls the handler once per pair: two writes to one offset of a tmpfs
// file, the first 16 bytes of A, the second 8 bytes of B. When the handler
// says the pair is done, the harness reads the pair's bytes from the file
// itself, and once every pair is over it reads them all again: the file,
// not the handler, says which write landed last.
//
// In the race scenario the harness also issues pairs of its own on a
// second file, without any ordering, in the three ways the kernel treats
// differently (plain, the first with Async, both with Async), and counts
// what each left. In the busy scenario the loop also reads from another
// stream that a producer feeds every few milliseconds, and the harness
// times pairs written one at a time (the second submitted once the first
// has completed) against the handler's.
package child

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/asynclab/asynclab/exercises/ordering/wire"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements. The harness calls it on
// the loop once per pair.
type Handler = func(l *engine.Loop, fd int, off int64, first, second []byte, done func())

const (
	// patience is how long the harness waits for a pair's done before it
	// gives up on the handler: hundreds of times what a pair takes, even
	// one that waits for the other stream.
	patience = time.Second
	// settle is how long the harness waits after the last pair before it
	// reads every pair's bytes again, for writes still in flight.
	settle = 20 * time.Millisecond
	// warmups are the busy scenario's first one-at-a-time pairs, not timed.
	warmups = 3
)

// Main runs the scenario's pairs against h.
func Main(h Handler) {
	var x *harness
	kit.MainWithSetup(func(e *kit.Env) error {
		var err error
		x, err = newHarness(e, h)
		return err
	}, func(e *kit.Env) {
		x.plan()
		x.watch()
		x.run()
	})
}

type harness struct {
	e   *kit.Env
	l   *engine.Loop
	h   Handler
	rec *trace.Recorder

	fd, labFd int // the handler's file, the lab's own
	pairs     int
	lab       int // race: the lab's pairs of each case
	baseline  int // busy: one-at-a-time pairs, timed
	busy      bool
	other     time.Duration
	otherR    int // busy: the other stream's read end
	otherW    int
	stop      chan struct{}
	otherOp   *engine.Op // busy: the other stream's read in flight
	reads     int        // busy: reads of the other stream that completed

	steps []func(next func())
	step  int

	labOff   int64
	labCount map[wire.Case]map[wire.Outcome]int

	atDone   []wire.Outcome // each handler pair's bytes at done (0: no done yet)
	pairNs   []int64        // each handler pair's time, start to done
	baseNs   []int64
	cur      int   // the handler's pair in progress, from 1; 0 between pairs
	curStart int64 // when it started (loop clock, ns)
	stuck    bool
	finished bool
}

func newHarness(e *kit.Env, h Handler) (*harness, error) {
	a := e.Args
	x := &harness{e: e, l: e.Loop, h: h, rec: e.Recorder,
		pairs: a.Int(wire.ParamPairs, 300), lab: a.Int(wire.ParamLab, 0), baseline: a.Int(wire.ParamBaseline, 0),
		other: a.Duration(wire.ParamOther, 0), otherR: -1, otherW: -1,
		labCount: map[wire.Case]map[wire.Outcome]int{}}
	x.busy = x.other > 0
	var err error
	if x.fd, err = create("/tmp/ordering.dat", x.pairs); err != nil {
		return nil, err
	}
	if x.labFd, err = create("/tmp/ordering-lab.dat", 3*x.lab+x.baseline+warmups); err != nil {
		return nil, err
	}
	if x.busy {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("pipe2: %w", err)
		}
		x.otherR, x.otherW = p[0], p[1]
	}
	x.atDone = make([]wire.Outcome, x.pairs)
	x.pairNs = make([]int64, x.pairs)
	e.Value(wire.ValueFD, float64(x.fd))
	e.Value(wire.ValueLabFD, float64(x.labFd))
	e.Value(wire.ValuePairs, float64(x.pairs))
	return x, nil
}

// create makes a file on the box's tmpfs with room for n pairs.
func create(path string, n int) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Ftruncate(fd, int64(max(n, 1)*wire.Slot)); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("ftruncate %s: %w", path, err)
	}
	return fd, nil
}

// plan lists the steps. Each runs in a callback of its own.
func (x *harness) plan() {
	if x.busy {
		x.add(func(next func()) { x.startOther(); next() })
		// The one-at-a-time pairs come first, on a ring no drained op has
		// touched yet: on Linux 6.16 and later a drain can leave the ring
		// making every later op wait for the other stream's read.
		for i := range warmups + x.baseline {
			x.add(func(next func()) { x.onceAtATime(i >= warmups, next) })
		}
	}
	for i := range x.pairs {
		if i < x.lab {
			for _, c := range wire.Cases {
				x.add(func(next func()) { x.labPair(c, next) })
			}
		}
		x.add(func(next func()) { x.pair(i, next) })
	}
	x.add(func(next func()) { x.e.Harness().AfterFunc("harness: settle", settle, next) })
}

func (x *harness) add(f func(next func())) { x.steps = append(x.steps, f) }

// run starts the next step in a callback of its own.
func (x *harness) run() {
	if x.stuck {
		return
	}
	if x.step == len(x.steps) {
		x.finish()
		return
	}
	f := x.steps[x.step]
	x.step++
	x.e.Harness().Queue(fmt.Sprintf("harness: step %d", x.step), func() { f(x.run) })
}

// watch gives up on a handler that never calls done: it checks every
// tenth of the patience, so a pair gets at most 1.1 times it.
func (x *harness) watch() {
	x.e.Harness().AfterFunc("harness: watch", patience/10, func() {
		if x.finished {
			return
		}
		if x.cur > 0 && time.Duration(int64(x.l.Now())-x.curStart) > patience {
			x.stuck = true
			x.e.Value(wire.ValueStuck, float64(x.cur))
			x.e.Value(wire.ValuePatience, float64(patience))
			x.finish()
			return
		}
		x.watch()
	})
}

// mark records one of the harness's moments on the loop.
func (x *harness) mark(name string, pair int, fd int, res int64) {
	x.rec.Emit(trace.Event{Kind: trace.KindMark, Time: x.rec.Now(), Arg0: int64(pair), Arg1: x.e.Args.Tag,
		Res: res, Fd: int32(fd), Name: x.rec.Intern(name)})
}

// slot reads the 16 bytes of the pair at off from fd.
func slot(fd int, off int64) ([]byte, wire.Outcome) {
	b := make([]byte, len(wire.First))
	if n, err := syscall.Pread(fd, b, off); err != nil || n != len(b) {
		return b, wire.Missing
	}
	return b, wire.Classify(b)
}

// pair calls the handler for pair i (from 0) and waits for its done.
func (x *harness) pair(i int, next func()) {
	n, off := i+1, int64(i*wire.Slot)
	x.mark(fmt.Sprintf("%s%d at offset %d", wire.MarkStart, n, off), n, x.fd, off)
	calls := 0
	onLoop := func() {
		calls++
		if calls > 1 {
			x.mark(fmt.Sprintf("%s%d (%d calls)", wire.MarkAgain, n, calls), n, x.fd, int64(calls))
			return
		}
		if x.stuck || x.finished {
			return
		}
		x.pairNs[i] = int64(x.l.Now()) - x.curStart
		b, o := slot(x.fd, off)
		x.atDone[i] = o
		x.cur = 0
		x.mark(fmt.Sprintf("%s%d: %s (%s)", wire.MarkDone, n, wire.Show(b), o), n, x.fd, int64(o))
		x.e.Harness().Queue("harness: next", next)
	}
	done := func() {
		if !x.l.OnLoop() {
			x.e.Harness().Post("harness: done, posted", onLoop)
			return
		}
		onLoop()
	}
	first, second := slices.Clone(wire.First), slices.Clone(wire.Second)
	x.cur, x.curStart = n, int64(x.l.Now())
	x.h(x.l, x.fd, off, first, second, done)
}

// labPair issues one of the lab's own unordered pairs on the lab's file.
func (x *harness) labPair(c wire.Case, next func()) {
	off := x.labOff
	x.labOff += wire.Slot
	var o1, o2 engine.Order
	switch c {
	case wire.FirstAsync:
		o1 = engine.Async
	case wire.BothAsync:
		o1, o2 = engine.Async, engine.Async
	}
	left := 2
	end := func(int, error) {
		if left--; left > 0 {
			return
		}
		b, o := slot(x.labFd, off)
		if x.labCount[c] == nil {
			x.labCount[c] = map[wire.Outcome]int{}
		}
		x.labCount[c][o]++
		x.mark(fmt.Sprintf("%s(%s): %s", wire.MarkLab, c, wire.Show(b)), 0, x.labFd, int64(o))
		x.e.Harness().Queue("harness: next", next)
	}
	x.l.Write(x.labFd, slices.Clone(wire.First), off).Order(o1).Then(end)
	x.l.Write(x.labFd, slices.Clone(wire.Second), off).Order(o2).Then(end)
}

// onceAtATime writes one pair on the lab's file the slow, sure way: the
// second write is submitted only once the first has completed.
func (x *harness) onceAtATime(timed bool, next func()) {
	off := x.labOff
	x.labOff += wire.Slot
	start := int64(x.l.Now())
	x.l.Write(x.labFd, slices.Clone(wire.First), off).Order(engine.Async).Then(func(int, error) {
		x.l.Write(x.labFd, slices.Clone(wire.Second), off).Then(func(int, error) {
			ns := int64(x.l.Now()) - start
			b, _ := slot(x.labFd, off)
			if timed {
				x.baseNs = append(x.baseNs, ns)
			}
			x.mark(fmt.Sprintf("%s%d: %s in %v", wire.MarkBase, len(x.baseNs), wire.Show(b), time.Duration(ns).Round(time.Microsecond)), 0, x.labFd, ns)
			x.e.Harness().Queue("harness: next", next)
		})
	})
}

// startOther starts the other stream: a producer writes a byte into a pipe
// every period, and the loop keeps a read of it in flight, as a server
// keeps a read on each of its clients.
func (x *harness) startOther() {
	x.stop = make(chan struct{})
	go func() {
		t := time.NewTicker(x.other)
		defer t.Stop()
		for {
			select {
			case <-x.stop:
				return
			case <-t.C:
				syscall.Write(x.otherW, []byte{1})
			}
		}
	}()
	buf := make([]byte, 64)
	var read func()
	read = func() {
		x.otherOp = x.l.Read(x.otherR, buf, -1).Then(func(n int, err error) {
			if x.finished || err != nil {
				syscall.Close(x.otherR)
				return
			}
			x.reads++
			read()
		})
	}
	read()
}

// finish reads every pair's bytes again, reports what it found, and ends
// the run.
func (x *harness) finish() {
	if x.finished {
		return
	}
	x.finished = true
	if x.stop != nil {
		close(x.stop)
	}
	done := 0
	for i, at := range x.atDone {
		if at == 0 {
			continue
		}
		done++
		b, o := slot(x.fd, int64(i*wire.Slot))
		if o != at {
			x.mark(fmt.Sprintf("%s%d: now %s (%s)", wire.MarkLate, i+1, wire.Show(b), o), i+1, x.fd, int64(o))
			x.atDone[i] = o
		}
	}
	x.e.Value(wire.ValueDone, float64(done))
	for _, c := range wire.Cases {
		for _, o := range wire.Outcomes {
			if x.lab > 0 {
				x.e.Value(wire.ValueLab(c, o), float64(x.labCount[c][o]))
			}
		}
	}
	if x.busy {
		x.e.Value(wire.ValueBusyRead, float64(x.reads))
		if times := x.handlerTimes(); len(times) > 0 {
			x.e.Value(wire.ValueHandler, float64(median(times)))
		}
		if len(x.baseNs) > 0 {
			x.e.Value(wire.ValueBaseline, float64(median(x.baseNs)))
		}
	}
	x.e.Report("%s", x.summary(done))
	syscall.Close(x.fd)
	syscall.Close(x.labFd)
	if x.busy {
		syscall.Close(x.otherW)
		x.otherOp.Cancel()
	}
}

// summary is the run's answer: what the handler's pairs left, and the
// lab's own.
func (x *harness) summary(done int) string {
	count := map[wire.Outcome]int{}
	for _, o := range x.atDone {
		if o != 0 {
			count[o]++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "your pairs: %s", counts(count, done))
	if x.stuck {
		fmt.Fprintf(&b, "; pair %d never called done within %v", x.cur, patience)
	}
	for _, c := range wire.Cases {
		if n := x.labCount[c]; n != nil {
			total := 0
			for _, v := range n {
				total += v
			}
			fmt.Fprintf(&b, " · lab, %s: %s", c, counts(n, total))
		}
	}
	if x.busy {
		if times := x.handlerTimes(); len(times) > 0 {
			fmt.Fprintf(&b, " · your pairs' median %v", time.Duration(median(times)).Round(time.Microsecond))
		}
		if len(x.baseNs) > 0 {
			fmt.Fprintf(&b, " · one at a time: median %v", time.Duration(median(x.baseNs)).Round(time.Microsecond))
		}
	}
	return b.String()
}

// handlerTimes are the times of the handler's pairs that called done.
func (x *harness) handlerTimes() []int64 {
	var times []int64
	for i, ns := range x.pairNs {
		if x.atDone[i] != 0 {
			times = append(times, ns)
		}
	}
	return times
}

func counts(n map[wire.Outcome]int, total int) string {
	var parts []string
	for _, o := range wire.Outcomes {
		if n[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o.Short(), n[o]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s of %d", strings.Join(parts, ", "), total)
}

func median(ns []int64) int64 {
	s := slices.Clone(ns)
	slices.Sort(s)
	return s[len(s)/2]
}
