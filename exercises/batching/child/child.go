// Package child is the batching exercise's harness inside the sandbox. It
// writes a file to /tmp and calls the handler several times, each time on
// a fresh raw ring: once with every read and every NOP, then with NOPs
// alone, each of those timed against the harness's own one-op-per-enter
// run of the same NOPs. When the scenario asks, it then measures the costs
// behind the break-even batch size B*. Everything it learns goes to the
// grader as tagged values.
package child

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/asynclab/asynclab/exercises/batching/wire"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/uring"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements.
type Handler = func(l *engine.Loop, r *engine.Ring, fd int, offsets []int64, size int, nops int, done func(data [][]byte, err error))

// SweepBatches are the batch sizes the harness sweeps.
var SweepBatches = []int{1, 2, 4, 8, 16, 32, 64}

// threadCPU returns the CPU time the calling thread has used. The loop runs
// on one locked OS thread, so the difference of two readings is what a
// stretch of loop work cost, without the time other processes took the
// CPU away: a loaded machine stretches wall time, not this.
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

type harness struct {
	e       *kit.Env
	l       *engine.Loop
	h       Handler
	entries int
	reads   int
	nops    int
	size    int
	timed   int // NOP-only calls timed against the baseline
	sweep   bool
	seed    uint64

	path    string
	content []byte
	fd      int
	rings   []*engine.Ring // every ring the harness made, closed at the end
	base    *engine.Ring

	// Every ring is made in setup: once the handler may run, kit has
	// forbidden new rings. Each call's ring is still one nobody used.
	callRings []*engine.Ring // one per call
	sweepRing *engine.Ring   // the B* measurements' batches
	enterRing *uring.Ring    // measureEnter's; allows no op at all

	steps []func(next func())
	step  int
	calls int

	handlerCPU []int64 // per timed call; -1 when the call never finished
	baseCPU    []int64
	summary    []string
	failed     []string
}

// Main runs h against the scenario's reads and NOPs: once with both, then
// several times with NOPs alone, each timed against one op per enter.
func Main(h Handler) {
	var x *harness
	kit.MainWithSetup(func(e *kit.Env) error {
		a := e.Args
		x = &harness{e: e, l: e.Loop, h: h,
			entries: a.Int("ring", 32), reads: a.Int("reads", 1000), nops: a.Int("nops", 1000),
			size: a.Int("size", 64), timed: a.Int("timed", 5), sweep: a.Param("sweep") == "yes",
			seed: uint64(a.Int("seed", 1)), fd: -1}
		if err := x.setup(a.Int("file", 64<<10)); err != nil {
			x.cleanup()
			return err
		}
		return nil
	}, func(e *kit.Env) {
		x.plan()
		x.run()
	})
}

// setup writes the file, opens it, finds the loop's own ring and makes
// every ring of the run: the baseline's, one per call, and the B*
// measurements'.
func (x *harness) setup(fileSize int) error {
	x.content = make([]byte, fileSize)
	rng := rand.New(rand.NewPCG(x.seed, 0x6261746368))
	for i := range x.content {
		// Never 0: a read that never happened leaves zeros behind, and
		// must never match by luck.
		x.content[i] = byte(1 + rng.IntN(255))
	}
	x.path = "/tmp/batching.dat"
	if err := os.WriteFile(x.path, x.content, 0o600); err != nil {
		return err
	}
	fd, err := syscall.Open(x.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", x.path, err)
	}
	x.fd = fd
	x.e.Value(wire.ValueLoopRingFd, float64(loopRingFd()))
	if x.base, err = x.newRing(x.entries); err != nil {
		return err
	}
	for range 1 + x.timed { // the calls plan makes
		r, err := x.newRing(x.entries)
		if err != nil {
			return err
		}
		x.callRings = append(x.callRings, r)
	}
	if !x.sweep {
		return nil
	}
	if x.sweepRing, err = x.newRing(SweepBatches[len(SweepBatches)-1]); err != nil {
		return err
	}
	// No SQE is ever submitted to it. SetupClamp stands for "no flags",
	// as the zeroed io_uring_params of a bare ring would have.
	x.enterRing, err = uring.Setup(uring.Options{Entries: 1, Flags: uring.SetupClamp, Restrict: &uring.Restrictions{}})
	if err != nil {
		return fmt.Errorf("B* measurements: %w", err)
	}
	return nil
}

func (x *harness) newRing(entries int) (*engine.Ring, error) {
	r, err := x.l.NewRing(uint32(entries))
	if err != nil {
		return nil, err
	}
	x.rings = append(x.rings, r)
	return r, nil
}

// loopRingFd returns the descriptor of the loop's own io_uring, or -1 on
// epoll. It is called before the harness makes any ring of its own.
func loopRingFd() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && link == "anon_inode:[io_uring]" {
			if fd, err := strconv.Atoi(e.Name()); err == nil {
				return fd
			}
		}
	}
	return -1
}

// offsets returns the read offsets of the call with the given seed.
func (x *harness) offsets(seed uint64) []int64 {
	rng := rand.New(rand.NewPCG(x.seed, seed))
	offs := make([]int64, x.reads)
	for j := range offs {
		offs[j] = rng.Int64N(int64(len(x.content) - x.size + 1))
	}
	return offs
}

// plan lists the steps. Each runs in a callback of its own, so no callback
// holds the loop for long.
//
// The first call carries every read and every NOP. The timed calls carry
// NOPs alone: a NOP does no work and always completes inline, so its cost
// is all ring and user-kernel transitions, on the loop's own thread. A
// read of a tmpfs file is handed to the kernel's io-wq worker threads,
// whose time the loop thread's clock does not see and whose scheduling a
// loaded machine makes erratic.
func (x *harness) plan() {
	x.handlerCPU = make([]int64, x.timed)
	x.baseCPU = make([]int64, x.timed)
	x.add(func(next func()) { x.call(x.offsets(1), x.nops, -1, next) })
	// A warm-up baseline, not timed: code, allocator, request caches.
	x.add(func(next func()) { x.baseline(x.nops); next() })
	for t := 0; t < x.timed; t++ {
		call := func(next func()) { x.call(nil, x.nops, t, next) }
		base := func(next func()) {
			x.e.Value(fmt.Sprintf(wire.ValueBaseStart, t), float64(x.l.Now()))
			x.baseCPU[t] = x.baseline(x.nops)
			x.e.Value(fmt.Sprintf(wire.ValueBaseEnd, t), float64(x.l.Now()))
			next()
		}
		// Alternate the order, so neither side always runs on a cache
		// the other just warmed.
		if t%2 == 0 {
			x.add(call)
			x.add(base)
		} else {
			x.add(base)
			x.add(call)
		}
	}
	x.add(func(next func()) { x.compare(); next() })
	if x.sweep {
		x.planSweep()
	}
}

func (x *harness) add(f func(next func())) { x.steps = append(x.steps, f) }

// run starts the next step in a callback of its own.
func (x *harness) run() {
	if x.step == len(x.steps) {
		x.finish()
		return
	}
	f := x.steps[x.step]
	x.step++
	x.e.Harness().Queue(fmt.Sprintf("harness: step %d", x.step), func() { f(x.run) })
}

// call gives the handler a fresh ring, offs and nops, and checks what it
// hands back. timed >= 0 makes it timed call number timed.
func (x *harness) call(offs []int64, nops int, timed int, next func()) {
	i := x.calls
	x.calls++
	x.e.Value(wire.ValueCalls, float64(x.calls))
	x.e.Value(fmt.Sprintf(wire.ValueReads, i), float64(len(offs)))
	x.e.Value(fmt.Sprintf(wire.ValueNops, i), float64(nops))
	if timed >= 0 {
		x.handlerCPU[timed] = -1
	}
	if i >= len(x.callRings) {
		x.failed = append(x.failed, fmt.Sprintf("call %d: no ring", i+1))
		next()
		return
	}
	r := x.callRings[i]
	// One SQ of NOPs first, outside the call and the trace: a new ring's
	// first submissions fill the kernel's request cache, and the
	// baseline's ring is warm.
	x.e.Recorder.SetEnabled(false)
	warm := make([]engine.CQE, 2*x.entries)
	for j := range x.entries {
		r.PrepNop(uint64(j))
	}
	r.SubmitAndWait(x.entries)
	for got := 0; got < x.entries; {
		got += r.Reap(warm)
	}
	x.e.Recorder.SetEnabled(true)
	answered := false
	limit := x.e.Harness().AfterFunc("harness: the handler did not call done", x.e.Args.Duration("call_limit", time.Second), func() {
		answered = true
		x.failed = append(x.failed, fmt.Sprintf("call %d never called done", i+1))
		next()
	})
	// The handler starts in a callback named after it, so that the
	// timeline names the student's code, not the harness.
	x.l.Queue(fmt.Sprintf("Batch (your handler), call %d", i+1), func() { x.start(r, i, offs, nops, timed, limit, &answered, next) })
}

// start calls the handler for call i and checks what it hands back.
func (x *harness) start(r *engine.Ring, i int, offs []int64, nops, timed int, limit *engine.Timer, answered *bool, next func()) {
	x.e.Value(fmt.Sprintf(wire.ValueStart, i), float64(x.l.Now()))
	start := threadCPU()
	x.h(x.l, r, x.fd, offs, x.size, nops, func(data [][]byte, err error) {
		cpu := threadCPU() - start
		end := x.l.Now()
		if *answered {
			return
		}
		*answered = true
		limit.Stop()
		x.e.Value(fmt.Sprintf(wire.ValueEnd, i), float64(end))
		if timed >= 0 {
			x.handlerCPU[timed] = cpu
			x.e.Value(fmt.Sprintf(wire.ValueCPU, i), float64(cpu))
		}
		x.verify(i, offs, data, err)
		// next queues the next step: it runs from the loop, not from
		// inside the handler's stack.
		next()
	})
}

// verify compares what call i handed back with the file.
func (x *harness) verify(i int, offs []int64, data [][]byte, err error) {
	if err != nil {
		x.e.Value(fmt.Sprintf(wire.ValueErr, i), 1)
		x.failed = append(x.failed, fmt.Sprintf("call %d: done(%v)", i+1, err))
	}
	x.e.Value(fmt.Sprintf(wire.ValueLen, i), float64(len(data)))
	bad, first := 0, -1
	for j, off := range offs {
		want := x.content[off : off+int64(x.size)]
		if j >= len(data) || !bytes.Equal(data[j], want) {
			bad++
			if first < 0 {
				first = j
			}
		}
	}
	x.e.Value(fmt.Sprintf(wire.ValueBad, i), float64(bad))
	x.e.Value(fmt.Sprintf(wire.ValueFirstBad, i), float64(first))
	if bad > 0 && err == nil {
		x.failed = append(x.failed, fmt.Sprintf("call %d: %d of %d reads wrong", i+1, bad, len(offs)))
	}
}

// baseline runs nops NOPs the starter's way, one op per io_uring_enter,
// on a ring of the same size, and returns its CPU time.
func (x *harness) baseline(nops int) int64 {
	r := x.base
	cqe := make([]engine.CQE, 1)
	start := threadCPU()
	for i := range nops {
		r.PrepNop(uint64(i))
		r.SubmitAndWait(1)
		r.Reap(cqe)
	}
	return threadCPU() - start
}

// compare reports the fastest timed call against the fastest baseline.
// The minimum of several runs is what the work costs when nothing else
// gets in the way.
func (x *harness) compare() {
	h, b := minOf(x.handlerCPU), minOf(x.baseCPU)
	for t, c := range x.baseCPU {
		x.e.Value(fmt.Sprintf(wire.ValueBaseCPU, t), float64(c))
	}
	if h <= 0 || b <= 0 {
		return
	}
	x.e.Value(wire.ValueHandlerCPU, float64(h))
	x.e.Value(wire.ValueBaseline, float64(b))
	x.e.Value(wire.ValueSpeedup, float64(b)/float64(h))
	x.summary = append(x.summary, fmt.Sprintf("%d NOPs, CPU: yours %s, one per enter %s (%.1fx)",
		x.nops, fmtNs(float64(h)), fmtNs(float64(b)), float64(b)/float64(h)))
}

// minOf is the smallest value, or -1 if a call never finished.
func minOf(xs []int64) int64 {
	m := int64(-1)
	for _, v := range xs {
		if v < 0 {
			return -1
		}
		if m < 0 || v < m {
			m = v
		}
	}
	return m
}

// The B* measurements. Tracing is paused inside each of them: the
// recorder's cost per event would otherwise be counted as the kernel's.
type sweep struct {
	zero    int
	ring    *engine.Ring
	enterFd int       // measureEnter's ring
	sys     []float64 // ns per read(2), one per round
	classic []float64 // ns per ppoll(2) + read(2)
	enter   []float64 // ns per empty io_uring_enter
	nop     map[int][]float64
	read    map[int][]float64
}

const (
	sweepOps    = 2048 // ops per measurement
	sweepRounds = 5
)

func (x *harness) planSweep() {
	s := &sweep{zero: -1, nop: map[int][]float64{}, read: map[int][]float64{}}
	x.add(func(next func()) {
		fd, err := syscall.Open("/dev/zero", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == nil {
			s.zero = fd
			s.ring, s.enterFd = x.sweepRing, x.enterRing.Fd()
		}
		if err != nil {
			x.failed = append(x.failed, fmt.Sprintf("B* measurements: %v", err))
			x.step = len(x.steps) // skip the rest of the sweep
		}
		next()
	})
	paused := func(f func()) func(next func()) {
		return func(next func()) {
			rec := x.e.Recorder
			rec.SetEnabled(false)
			f()
			rec.SetEnabled(true)
			next()
		}
	}
	// Rounds of every measurement, so that a burst of load spoils one
	// sample of each rather than every sample of one.
	for range sweepRounds {
		x.add(paused(func() { s.sys = append(s.sys, s.measureSyscalls(false)) }))
		x.add(paused(func() { s.classic = append(s.classic, s.measureSyscalls(true)) }))
		x.add(paused(func() { s.enter = append(s.enter, s.measureEnter()) }))
		for _, b := range []int{8, 64} {
			x.add(paused(func() { s.nop[b] = append(s.nop[b], s.measureBatch(b, false)) }))
		}
		for _, b := range SweepBatches {
			x.add(paused(func() { s.read[b] = append(s.read[b], s.measureBatch(b, true)) }))
		}
	}
	x.add(func(next func()) {
		syscall.Close(s.zero)
		x.reportSweep(s)
		next()
	})
}

// measureSyscalls times the classic API on 1 byte of /dev/zero: read(2)
// alone, one system call per op, or, with poll, the two system calls of a
// readiness loop: ppoll(2) asks whether the fd is readable, read(2) reads.
func (s *sweep) measureSyscalls(poll bool) float64 {
	b := make([]byte, 1)
	type pollFd struct {
		fd             int32
		events, revent int16
	}
	pfd := pollFd{fd: int32(s.zero), events: 1} // POLLIN
	var zero syscall.Timespec
	start := threadCPU()
	for range sweepOps {
		if poll {
			syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		}
		syscall.Read(s.zero, b)
	}
	return float64(threadCPU()-start) / sweepOps
}

// measureEnter times io_uring_enter(fd, 0, 0, 0): a user-kernel round trip
// into the ring's system call that finds nothing to do. The engine's Ring
// makes no system call when there is nothing to submit or wait for, so
// this goes straight to the kernel, on a ring of its own (an enter with
// nothing to do never looks at the rings).
func (s *sweep) measureEnter() float64 {
	const sysIOUringEnter = 426 // the same on every architecture
	start := threadCPU()
	for range sweepOps {
		syscall.Syscall6(sysIOUringEnter, uintptr(s.enterFd), 0, 0, 0, 0, 0)
	}
	return float64(threadCPU()-start) / sweepOps
}

// measureBatch returns the cost per op of batches of b NOPs or 1-byte
// READs of /dev/zero (which, unlike a tmpfs file, completes inline): b
// SQEs, one io_uring_enter that submits them and waits for all, one reap.
func (s *sweep) measureBatch(b int, read bool) float64 {
	r := s.ring
	buf := make([]byte, 1)
	cqes := make([]engine.CQE, b)
	start := threadCPU()
	for range sweepOps / b {
		for i := range b {
			if read {
				r.PrepRead(s.zero, buf, 0, uint64(i))
			} else {
				r.PrepNop(uint64(i))
			}
		}
		r.SubmitAndWait(b)
		for got := 0; got < b; {
			got += r.Reap(cqes)
		}
	}
	return float64(threadCPU()-start) / float64(sweepOps/b*b)
}

func minF(xs []float64) float64 {
	m := math.Inf(1)
	for _, v := range xs {
		m = math.Min(m, v)
	}
	return m
}

// reportSweep turns the measurements into the model's terms:
//
//	ts+tk  one classic system call: read(2) of 1 byte from /dev/zero
//	tk     the transition alone: an io_uring_enter with nothing to do
//	ts     what the read does beyond it
//	tr     what one more request adds to a ring batch: the NOP slope
//
// computes the seed's B* = 2(ts+tk)/(2(ts+tk) - tr), and finds the batch
// size at which a ring READ of the same byte costs less per op than the
// model's classic op, ppoll(2) + read(2), and than a bare read(2).
func (x *harness) reportSweep(s *sweep) {
	tsk, tk, classic := minF(s.sys), minF(s.enter), minF(s.classic)
	ts := math.Max(tsk-tk, 0)
	tr := math.Max((64*minF(s.nop[64])-8*minF(s.nop[8]))/56, 0)
	trRead := math.Max((64*minF(s.read[64])-8*minF(s.read[8]))/56, 0)
	aRead := math.Max(8*minF(s.read[8])-8*trRead, 0)
	e := x.e
	e.Value(wire.ValueSyscall, tsk)
	e.Value(wire.ValueClassic, classic)
	e.Value(wire.ValueEnter, tk)
	e.Value(wire.ValueTs, ts)
	e.Value(wire.ValueTr, tr)
	e.Value(wire.ValueTrRead, trRead)
	e.Value(wire.ValueFixedRead, aRead)

	predicted := math.Inf(1)
	if d := 2*tsk - tr; d > 0 {
		predicted = 2 * tsk / d
	}
	measured, vsRead := 0, 0
	for _, b := range SweepBatches {
		c := minF(s.read[b])
		e.Value(fmt.Sprintf(wire.ValueRingRead, b), c)
		if measured == 0 && c <= classic {
			measured = b
		}
		if vsRead == 0 && c <= tsk {
			vsRead = b
		}
	}
	e.Value(wire.ValuePredicted, finite(predicted))
	e.Value(wire.ValueMeasured, float64(measured))
	e.Value(wire.ValueVsRead, float64(vsRead))

	// The answer is one trace name, at most 256 bytes: the rest is in the
	// values.
	x.summary = append(x.summary,
		fmt.Sprintf("B* predicted %s (ts+tk %s, tk %s, tr %s); measured B%s vs ppoll+read (%s), B%s vs read(2); ring READ/op B=1 %s, B=2 %s, B=64 %s",
			fmtB(predicted), fmtNs(tsk), fmtNs(tk), fmtNs(tr), fmtCross(measured), fmtNs(classic), fmtCross(vsRead),
			fmtNs(minF(s.read[1])), fmtNs(minF(s.read[2])), fmtNs(minF(s.read[64]))))
}

func fmtCross(b int) string {
	if b == 0 {
		return ">64"
	}
	return "=" + strconv.Itoa(b)
}

// finite keeps an infinite ratio reportable: -1 means "never".
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return -1
	}
	return math.Round(v*100) / 100
}

func fmtB(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "never"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func fmtNs(ns float64) string {
	if ns >= 1e5 {
		return strconv.FormatFloat(ns/1e6, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(ns, 'f', 0, 64) + " ns"
}

// finish releases what the harness made and reports.
func (x *harness) finish() {
	x.cleanup()
	msg := strings.Join(x.summary, "; ")
	if len(x.failed) > 0 {
		// The first problem is the one to fix; the values hold the rest.
		msg = x.failed[0] + "; " + msg
	}
	if msg == "" {
		msg = "done"
	}
	x.e.Report("%s", msg)
}

func (x *harness) cleanup() {
	for _, r := range x.rings {
		r.Close()
	}
	x.rings = nil
	if x.enterRing != nil {
		x.enterRing.Close()
		x.enterRing = nil
	}
	if x.fd >= 0 {
		syscall.Close(x.fd)
		x.fd = -1
	}
	if x.path != "" {
		os.Remove(x.path)
	}
}
