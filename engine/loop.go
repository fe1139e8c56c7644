package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	backends "github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// Kind names a loop backend (see package backend, which the lab's
// server uses on any platform).
type Kind = backends.Kind

// The backends.
const (
	Epoll = backends.Epoll
	Uring = backends.Uring
)

// Trigger selects how the epoll backend registers interest.
type Trigger uint8

// The triggers. Level-triggered is the default; edge-triggered and one-shot
// exist so that their differences can be seen in the trace.
const (
	LevelTriggered Trigger = iota
	EdgeTriggered
	OneShot
)

// ErrClosed is returned when work is handed to a loop that has stopped.
var ErrClosed = errors.New("engine: loop closed")

// Config configures a [Loop]. The zero value is a level-triggered epoll loop
// with id 0 and a 64 Ki-event trace ring.
type Config struct {
	ID       uint16          // loop id recorded in every event
	Backend  Kind            // Epoll (default) or Uring
	Trigger  Trigger         // epoll only
	Entries  uint32          // io_uring SQ entries; default 256
	Recorder *trace.Recorder // created if nil
	Logger   *slog.Logger    // discards if nil

	// Fallback lets a Uring loop fall back to epoll when io_uring is not
	// usable here. The reason is logged, recorded as a mark in the trace and
	// reported by [Loop.FallbackReason].
	Fallback bool

	// TrustHandlers skips the check that loop-only methods are called on
	// the loop's thread, which costs a gettid system call per call. The lab
	// never sets it for student code; trusted servers and benchmarks may.
	TrustHandlers bool

	// StallLimit is how long one handler may hold the loop. A stalled loop
	// cannot be preempted from inside the process, so when the limit passes
	// a watchdog records a lint and calls OnStall, from its own goroutine;
	// a sandboxed harness ends the process there. Before OnStall the
	// watchdog seals the trace ([trace.Recorder.Seal]), which publishes the
	// lint and everything before it, and records nothing after. Zero means
	// no watchdog.
	StallLimit time.Duration
	OnStall    func(*StallError)

	// DeadlockLimit is how long the loop's thread may sleep inside one
	// callback (on a channel, a lock, a sleep or a system call) while
	// another goroutine waits in [Future.Wait] for one of the loop's
	// futures, before the run is called deadlocked: only the loop can
	// resolve that future, so if the callback waits for that goroutine,
	// neither ever runs again. A watchdog then records a deadlock lint,
	// seals the trace and calls OnDeadlock from its own goroutine, as for a
	// stall, and ends the run with a [DeadlockError] if the callback ever
	// returns. Zero means
	// 100 ms; a negative limit, or TrustHandlers, turns the check off. The
	// watchdog runs only while some goroutine waits, and tells a sleeping
	// thread from a running or runnable one by /proc/thread-self/stat. The
	// loop cannot see what the callback waits for, so one that blocks that
	// long for anything else while a goroutine waits is reported too: it
	// held the loop from the waiter all the same. OnDeadlock must return or
	// end the process.
	DeadlockLimit time.Duration
	OnDeadlock    func(*DeadlockError)

	// HandlerCPU records on each handler's End event how the loop's thread
	// spent the handler, as the kernel saw it: Arg0 is the CPU time it ran
	// and Arg1 the time it was runnable but not running (waiting for a CPU,
	// or throttled by a cgroup CPU quota), both in ns, read from
	// /proc/thread-self/schedstat (one pread per handler boundary). The
	// time it was blocked (a channel, Wait, a sleep, a system call) is then
	// Dur-Arg0-Arg1. Time the Go scheduler kept the handler's goroutine
	// waiting for a P, because more goroutines were runnable than
	// GOMAXPROCS, counts as blocked too: the thread sleeps meanwhile, and
	// the kernel cannot tell that from a channel receive.
	HandlerCPU bool
}

// defaultDeadlockLimit is DeadlockLimit's default: far longer than a
// callback that blocks briefly by accident, far shorter than a run.
const defaultDeadlockLimit = 100 * time.Millisecond

// Loop is a single-threaded event loop. Its methods must be called on the
// loop's own thread (from a callback) unless their comment says they are safe
// for concurrent use.
type Loop struct {
	cfg  Config
	rec  *trace.Recorder
	log  *slog.Logger
	sys  *sys.Sys
	kind Kind

	tid      atomic.Int64 // OS thread id of the loop while it runs
	be       backend
	fallback string

	queue    taskQueue
	runSeq   uint64 // incremented for every callback run; used by spin detection
	current  task   // the callback that is running now
	timers   timerHeap
	inflight inflightTable
	nextID   uint64
	stopping bool
	fatal    error

	// Cross-thread posting.
	postMu   sync.Mutex
	posted   []task
	wakeSent atomic.Bool
	closed   atomic.Bool

	names    loopNames
	counters [numCounters]int64 // last value recorded, plus one
	lost     atomic.Int64       // ns the loop was kept from running; see Lost

	// Watchdog state, read by other goroutines; kept only when watched.
	watched      bool          // a stall or deadlock watchdog may look at the running handler
	handlerStart atomic.Int64  // rec.Now() when the current handler began; 0 when idle
	stalledName  atomic.Uint32 // name of the running handler, for the watchdogs

	deadlockLimit time.Duration // 0: no deadlock watch; written before the run, under waitMu
	thread        *threadStat   // the loop thread's /proc files while it runs; nil if not needed
	cpuMark       schedTimes    // the thread's times at the last handler boundary
	cpuMarkOK     bool          // cpuMark is from this turn's run of handlers

	// Goroutines in Future.Wait on this loop's futures.
	waitMu    sync.Mutex
	waiters   []*offWaiter  // in the order they began waiting
	watching  bool          // a deadlock watch runs
	watchStop chan struct{} // closed when the run ends; nil outside Run
	ended     bool          // the run has ended: nothing will resolve a future now
	watchWG   sync.WaitGroup
}

// offWaiter is a goroutine in Future.Wait for one of the loop's futures.
type offWaiter struct {
	future trace.NameID
	id     uint64
	fail   func() // resolves the future with ErrClosed; on the loop only
}

// loopThreads maps the OS thread id of each running loop to the loop, so
// that an off-loop call can tell a loop's thread from a plain goroutine.
var loopThreads sync.Map

type task struct {
	name  trace.NameID
	ready int64 // when the task became ready (ns since run start)
	op    uint64
	key   int64 // the harness's key, for a callback a [Harness] scheduled; 0 for the handler's
	fn    func()
}

// New returns a loop. The backend is created by [Loop.Run] on the loop's own
// thread, because io_uring binds a ring to the thread that submits to it.
func New(cfg Config) *Loop {
	if cfg.Backend == "" {
		cfg.Backend = Epoll
	}
	if cfg.Entries == 0 {
		cfg.Entries = 256
	}
	if cfg.Recorder == nil {
		cfg.Recorder = trace.NewRecorder(cfg.ID, 1<<16, time.Now())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Loop{
		cfg:  cfg,
		rec:  cfg.Recorder,
		log:  cfg.Logger.With("subsystem", "engine", "loop", cfg.ID),
		kind: cfg.Backend,
	}
	switch {
	case cfg.TrustHandlers || cfg.DeadlockLimit < 0:
	case cfg.DeadlockLimit == 0:
		l.deadlockLimit = defaultDeadlockLimit
	default:
		l.deadlockLimit = cfg.DeadlockLimit
	}
	l.watched = cfg.StallLimit > 0 || l.deadlockLimit > 0
	l.names.intern(l.rec)
	l.sys = sys.New(l.rec, l.OnLoop)
	return l
}

// Sys returns the traced system call wrappers bound to this loop.
func (l *Loop) Sys() *sys.Sys { return l.sys }

// Backend reports which backend the loop runs on. After a fallback it is
// Epoll even if Uring was asked for.
func (l *Loop) Backend() Kind { return l.kind }

// FallbackReason says why the loop runs on epoll when io_uring was asked
// for, or "" if it did not fall back.
func (l *Loop) FallbackReason() string { return l.fallback }

// Now returns the loop's clock: nanoseconds since the run started.
func (l *Loop) Now() time.Duration { return time.Duration(l.rec.Now()) }

// Lost returns how long the loop has been kept from running since Run
// began, as far as it can tell: by how much its waits for the next timer
// outlasted their timeout (beyond a millisecond's grace each), and, with
// HandlerCPU, how long its callbacks waited for a CPU. A machine that
// keeps the whole process off the CPU shows here, so a harness's own
// timeouts can count only the time the handler really had. It is safe for
// concurrent use.
func (l *Loop) Lost() time.Duration { return time.Duration(l.lost.Load()) }

// overslept is what a wait that asked for timeout and took took ns lost
// to the loop: whatever it took past the timeout and a millisecond's
// grace for timer slack and a wake-up.
func overslept(timeout time.Duration, took int64) int64 {
	return max(0, took-int64(timeout)-int64(time.Millisecond))
}

// OnLoop reports whether the caller runs on the loop's own thread. It is safe
// for concurrent use.
func (l *Loop) OnLoop() bool {
	t := l.tid.Load()
	return t != 0 && int64(gettid()) == t
}

// Run locks the calling goroutine to its OS thread, sets up the backend, runs
// start as the first callback and then serves events until [Loop.Stop] is
// called, ctx is done, or a handler deadlocks, panics, stalls or calls a
// loop-only method off the loop. It returns nil after Stop, ctx.Err() after
// cancellation, and otherwise the error that ended the run
// (*DeadlockError, *PanicError, *OffLoopError).
func (l *Loop) Run(ctx context.Context, name string, start func()) (err error) {
	return l.run(ctx, 0, name, start)
}

func (l *Loop) run(ctx context.Context, key int64, name string, start func()) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := int64(gettid())
	if err := l.openThread(); err != nil {
		return err
	}
	defer l.closeThread() // after the watchdogs have stopped reading it
	l.tid.Store(tid)
	defer l.tid.Store(0)
	loopThreads.Store(tid, l)
	defer loopThreads.Delete(tid)

	if err := l.openBackend(); err != nil {
		return err
	}
	l.waitMu.Lock()
	l.watchStop = make(chan struct{})
	l.waitMu.Unlock()
	defer func() {
		l.closed.Store(true)
		// The backend first: it takes back what the kernel still holds.
		if cerr := l.be.close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s backend: %w", l.kind, cerr)
		}
		l.failPending()
		l.endWaits()
		l.rec.Flush()
	}()

	stopWatch := context.AfterFunc(ctx, func() {
		l.post(task{name: l.rec.Intern("loop: stop (cancelled)"), fn: func() { l.stopping = true }})
	})
	defer stopWatch()
	if l.cfg.StallLimit > 0 {
		done := make(chan struct{})
		defer close(done)
		go l.watchdog(done)
	}

	l.queueTask(task{name: l.rec.Intern(name), ready: l.stamp(), key: key, fn: start})
	for {
		l.runReady()
		l.runTimers()
		if l.fatal != nil {
			return l.fatal
		}
		if l.stopping {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		if err := l.be.flush(); err != nil {
			return fmt.Errorf("loop %d: %w", l.cfg.ID, err)
		}
		timeout := time.Duration(-1)
		if l.queue.len() > 0 {
			timeout = 0
		} else if d, ok := l.timers.next(l.rec.Now()); ok {
			timeout = d
		}
		began := int64(0)
		if timeout >= 0 {
			began = l.rec.Now()
		}
		if err := l.be.wait(timeout); err != nil {
			return fmt.Errorf("loop %d: %w", l.cfg.ID, err)
		}
		if timeout >= 0 {
			l.lost.Add(overslept(timeout, l.rec.Now()-began))
		}
		l.rec.Flush()
	}
}

// openThread opens the loop thread's scheduler statistics when HandlerCPU
// or the deadlock watch needs them. HandlerCPU was asked for, so without
// them the run fails; the deadlock watch only logs that it is off.
func (l *Loop) openThread() error {
	if !l.cfg.HandlerCPU && l.deadlockLimit == 0 {
		return nil
	}
	ts, err := openThreadStat(l.deadlockLimit > 0)
	if err != nil && l.cfg.HandlerCPU {
		return fmt.Errorf("loop %d: handler CPU: %w", l.cfg.ID, err)
	}
	if err != nil {
		l.log.Warn("no deadlock watch: cannot read the loop thread's state", "err", err)
		l.waitMu.Lock() // a goroutine may already wait, before the run
		l.deadlockLimit = 0
		l.waitMu.Unlock()
		return nil
	}
	l.thread = ts
	return nil
}

func (l *Loop) closeThread() {
	if l.thread != nil {
		l.thread.close()
		l.thread = nil
	}
}

func (l *Loop) openBackend() error {
	if l.kind == Uring {
		be, err := newUringBackend(l)
		if err == nil {
			l.be = be
			return nil
		}
		if !l.cfg.Fallback {
			return err
		}
		l.fallback = err.Error()
		l.kind = Epoll
		l.log.Warn("io_uring unavailable, falling back to epoll", "err", err)
		l.rec.Emit(trace.Event{Kind: trace.KindMark, Time: l.stamp(), Fd: -1,
			Name: l.rec.Intern("io_uring unavailable, using epoll: " + err.Error())})
	}
	be, err := newEpollBackend(l)
	if err != nil {
		return err
	}
	l.be = be
	return nil
}

// Stop ends the run after the current callback returns. It is safe for
// concurrent use.
func (l *Loop) Stop() {
	if l.OnLoop() {
		l.stopping = true
		return
	}
	l.post(task{name: l.rec.Intern("loop: stop"), fn: func() { l.stopping = true }})
}

// Queue appends fn to the loop's FIFO of ready callbacks. It must be called
// on the loop; other goroutines use [Loop.Post].
func (l *Loop) Queue(name string, fn func()) { l.queueKeyed(0, name, fn) }

// queueKeyed is Queue for a callback that carries key (see [Harness]).
func (l *Loop) queueKeyed(key int64, name string, fn func()) {
	l.mustOnLoop("Queue")
	l.queueTask(task{name: l.rec.Intern(name), ready: l.stamp(), key: key, fn: fn})
}

func (l *Loop) queueTask(t task) { l.queue.push(t) }

// Post hands fn to the loop from any goroutine. The loop runs it as a
// callback named name. Wakeups coalesce: many posts between two loop
// iterations cost one eventfd write. Post is safe for concurrent use and
// reports false if the loop has stopped.
func (l *Loop) Post(name string, fn func()) bool { return l.postKeyed(0, name, fn) }

// postKeyed is Post for a callback that carries key (see [Harness]).
func (l *Loop) postKeyed(key int64, name string, fn func()) bool {
	return l.post(task{name: l.rec.Intern(name), key: key, fn: fn})
}

func (l *Loop) post(t task) bool {
	if l.closed.Load() {
		return false
	}
	t.ready = l.stamp()
	l.postMu.Lock()
	l.posted = append(l.posted, t)
	l.postMu.Unlock()
	if l.wakeSent.CompareAndSwap(false, true) && l.be != nil {
		l.be.wake()
	}
	return true
}

// drainPosted moves posted tasks onto the FIFO. The backend calls it after
// it consumed the wakeup.
func (l *Loop) drainPosted() {
	l.wakeSent.Store(false)
	l.postMu.Lock()
	posted := l.posted
	l.posted = nil
	l.postMu.Unlock()
	for _, t := range posted {
		l.queue.push(t)
	}
}

// runReady runs the callbacks that were ready when it started. Callbacks
// they queue run on the next turn, after I/O has been polled, so a chain of
// callbacks cannot starve the kernel side.
func (l *Loop) runReady() {
	l.postMu.Lock()
	pending := len(l.posted) > 0
	l.postMu.Unlock()
	if pending {
		l.drainPosted()
	}
	n := l.queue.len()
	l.counter(counterRunq, l.names.runq, int64(n))
	// Back-to-back callbacks share a timestamp: one's end is the next's
	// begin, which halves the clock reads on a busy loop. They share a
	// schedstat reading for the same reason.
	now := int64(-1)
	l.cpuMarkOK = false
	for i := 0; i < n && l.fatal == nil; i++ {
		t := l.queue.pop()
		now = l.runTask(t, now)
	}
}

// runTask runs one callback with handler begin and end events around it, and
// turns a deadlock or panic into the error that ends the run.
func (l *Loop) runTask(t task, start int64) (end int64) {
	l.runSeq++
	l.current = t
	if start < 0 {
		start = l.stamp()
	}
	cpu := l.cfg.HandlerCPU && l.rec.Enabled()
	if cpu && !l.cpuMarkOK {
		l.cpuMark, l.cpuMarkOK = l.readTimes(), true
	}
	if l.watched && start == 0 {
		start = l.rec.Now()
	}
	l.rec.Emit(trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseBegin, Time: start,
		Name: t.name, Op: t.op, Arg0: t.ready, Arg1: t.key, Fd: -1})
	if l.cfg.StallLimit > 0 {
		// Publish now, so that a harness draining the trace when this
		// handler stalls sees it begin.
		l.rec.Flush()
	}
	if l.watched {
		// After the begin event: a watchdog that sees this start also sees
		// every event stored before it, should it have to seal the trace.
		l.stalledName.Store(uint32(t.name))
		l.handlerStart.Store(start)
	}
	defer func() {
		end = l.stamp()
		if l.watched {
			l.handlerStart.Store(0)
		}
		if v := recover(); v != nil {
			l.fatal = l.panicError(t, v)
		}
		ev := trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseEnd, Time: end,
			Dur: end - start, Name: t.name, Op: t.op, Fd: -1}
		if cpu {
			was := l.cpuMark
			l.cpuMark = l.readTimes()
			ev.Arg0, ev.Arg1 = l.cpuMark.CPU-was.CPU, l.cpuMark.Delay-was.Delay
			if l.cpuMark.CPU < 0 || was.CPU < 0 {
				ev.Arg0, ev.Arg1 = -1, -1
			} else if ev.Arg1 > 0 {
				l.lost.Add(ev.Arg1)
			}
		}
		l.rec.Emit(ev)
		l.current = task{}
	}()
	t.fn()
	return end // set by the deferred function
}

// readTimes reads the loop thread's times for HandlerCPU, on that thread;
// CPU is -1 if the reading failed, which it does not on a thread reading
// its own /proc file and CPU clock.
func (l *Loop) readTimes() schedTimes {
	t, err := l.thread.ownTimes()
	if err != nil {
		return schedTimes{CPU: -1, Delay: -1}
	}
	return t
}

func (l *Loop) panicError(t task, v any) error {
	switch err := v.(type) {
	case *DeadlockError:
		return err
	case *OffLoopError:
		return err // a loop-only method of another loop, called from this one
	}
	return &PanicError{Handler: l.rec.Name(t.name), Value: fmt.Sprint(v), Stack: string(debug.Stack())}
}

// currentHandler names the running callback, for error messages.
func (l *Loop) currentHandler() string { return l.rec.Name(l.current.name) }

// stamp is the time for a trace event: the clock when recording, and 0
// (without reading the clock) when tracing is off.
func (l *Loop) stamp() int64 {
	if l.rec.Enabled() {
		return l.rec.Now()
	}
	return 0
}

// The counters the loop samples. Each is recorded only when it changes.
const (
	counterRunq = iota
	counterInflight
	counterSQPending
	counterCQReady
	numCounters
)

func (l *Loop) counter(c int, name trace.NameID, v int64) { l.counterAt(c, name, v, -1) }

// counterAt is counter for a value the loop learned at time at, when that
// time has been read already; below zero it reads the clock.
func (l *Loop) counterAt(c int, name trace.NameID, v int64, at int64) {
	if l.counters[c] == v+1 || !l.rec.Enabled() {
		return
	}
	l.counters[c] = v + 1 // zero means never recorded
	if at < 0 {
		at = l.rec.Now()
	}
	l.rec.Emit(trace.Event{Kind: trace.KindCounter, Time: at, Name: name, Res: v, Fd: -1})
}

// newID numbers futures and timers. The top bit keeps them apart from op
// ids (slot<<32 | generation), so an id in the trace names one thing.
func (l *Loop) newID() uint64 {
	l.nextID++
	return 1<<63 | l.nextID
}

// mustOnLoop ends the run when a loop-only method is called from another
// thread, where it would race with the loop on state the loop owns.
//
// It records an off-loop lint naming the call, hands an [OffLoopError] to
// the loop (posted, so the loop wakes) and stops the calling goroutine with
// [runtime.Goexit]: the call never returns, the goroutine's deferred calls
// run, and recover cannot stop it, so nothing after the bad call runs with
// the loop's state half-touched. The loop then ends the run and Run returns
// the error, like a deadlock, with the lint in the trace; the process lives
// on. A goroutine that recovered the old panic and carried on is not
// supported.
//
// Called on the thread of another running loop, it panics with the error
// instead, since exiting that loop's goroutine would end its Run without a
// return: that loop's run ends with the same error, and so does this one's.
//
// Before Run and after it returns, no thread is the loop's and every call
// is allowed, which is how a loop is set up.
func (l *Loop) mustOnLoop(what string) {
	if l.cfg.TrustHandlers || l.tid.Load() == 0 || l.OnLoop() {
		return
	}
	err := &OffLoopError{Call: what}
	l.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: l.stamp(), Arg0: int64(trace.LintOffLoop),
		Name: l.rec.Intern(err.Error()), Fd: -1})
	l.endWith(err)
	if _, ok := loopThreads.Load(int64(gettid())); ok {
		panic(err)
	}
	runtime.Goexit()
}

// endWith hands err to the loop, from any goroutine: the loop ends its run
// with err once the callback it may be running returns, unless another
// error came first. It reports false if the run has already ended.
func (l *Loop) endWith(err error) bool {
	return l.post(task{name: l.rec.Intern("engine: end the run: " + err.Error()), fn: func() {
		if l.fatal == nil {
			l.fatal = err
		}
	}})
}

// failPending completes whatever is still queued when the run ends, so that
// off-loop waiters do not hang.
func (l *Loop) failPending() {
	l.drainPosted()
	l.inflight.each(func(op *Op) {
		if op.name == l.names.wake {
			return // the loop's own wakeup read: nobody waits on it
		}
		if op.State() != OpDone {
			l.completeOp(op, -int32(unix.ECANCELED), 0, l.stamp()) // resolves its future: the loop is closed
		}
	})
}

// watchdog reports a handler that holds the loop past StallLimit.
func (l *Loop) watchdog(done <-chan struct{}) {
	tick := time.NewTicker(l.cfg.StallLimit / 4)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			start := l.handlerStart.Load()
			if start == 0 {
				continue
			}
			if held := time.Duration(l.rec.Now() - start); held > l.cfg.StallLimit {
				err := &StallError{Handler: l.rec.Name(trace.NameID(l.stalledName.Load())), Held: held}
				l.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: l.stamp(),
					Arg0: int64(trace.LintLongHandler), Name: l.rec.Intern(err.Error()), Fd: -1})
				if l.cfg.OnStall != nil {
					// The harness ends the process with the trace it has,
					// and the loop cannot publish the lint while it is
					// stuck: seal the trace, which publishes it.
					l.rec.Seal()
					l.cfg.OnStall(err)
				}
				return // once: the loop is stuck and will not be told twice
			}
		}
	}
}

// waitOffLoop registers a goroutine about to wait in Wait for future id,
// and starts the deadlock watch if it is not running. It returns the
// registration to pass to doneWaiting, or nil, with ok false, if the run
// has ended and the future will never resolve.
func (l *Loop) waitOffLoop(id uint64, name trace.NameID, fail func()) (w *offWaiter, ok bool) {
	l.waitMu.Lock()
	defer l.waitMu.Unlock()
	if l.ended {
		return nil, false
	}
	w = &offWaiter{future: name, id: id, fail: fail}
	l.waiters = append(l.waiters, w)
	if l.deadlockLimit > 0 && l.watchStop != nil && !l.watching {
		l.watching = true
		l.watchWG.Add(1)
		go l.watchDeadlock(l.watchStop)
	}
	return w, true
}

func (l *Loop) doneWaiting(w *offWaiter) {
	l.waitMu.Lock()
	defer l.waitMu.Unlock()
	if i := slices.Index(l.waiters, w); i >= 0 {
		l.waiters = slices.Delete(l.waiters, i, i+1)
	}
}

// oldestWaiter returns the goroutine that has waited longest, or nil, and
// then the watch ends, as it does when the run has ended.
func (l *Loop) oldestWaiter() *offWaiter {
	l.waitMu.Lock()
	defer l.waitMu.Unlock()
	if len(l.waiters) == 0 || l.ended {
		l.watching = false
		return nil
	}
	return l.waiters[0]
}

// endWaits stops the deadlock watch and resolves, with ErrClosed, the
// futures that goroutines still wait for: nothing else will now. It runs on
// the loop's thread as the run ends.
func (l *Loop) endWaits() {
	l.waitMu.Lock()
	l.ended = true
	if l.watchStop != nil {
		close(l.watchStop)
		l.watchStop = nil
	}
	waiters := slices.Clone(l.waiters)
	l.waitMu.Unlock()
	l.watchWG.Wait()
	for _, w := range waiters {
		w.fail()
	}
}

// watchDeadlock runs while goroutines wait in Wait for the loop's futures.
// It reports a deadlock once the loop's thread has slept inside one
// callback for DeadlockLimit: asleep (not running, not runnable) at every
// look, its CPU time unchanged since the first, and the same callback
// running. A thread that ran at all in between, or another callback,
// starts the count again.
func (l *Loop) watchDeadlock(stop <-chan struct{}) {
	defer l.watchWG.Done()
	tick := time.NewTicker(max(l.deadlockLimit/8, time.Millisecond))
	defer tick.Stop()
	var handler, since, cpu int64 // the callback watched, when its thread was first seen asleep, its CPU time then
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		w := l.oldestWaiter()
		if w == nil {
			return
		}
		if h := l.handlerStart.Load(); h == 0 || h != handler {
			handler, since = h, 0
			continue
		}
		st, err := l.thread.state()
		if err != nil || (st != 'S' && st != 'D') {
			since = 0
			continue
		}
		t, err := l.thread.times() // schedstat's CPU time: exact for a sleeping thread, and read from this one
		if err != nil {
			since = 0
			continue
		}
		if now := l.rec.Now(); since == 0 || t.CPU != cpu {
			since, cpu = now, t.CPU
			continue
		} else if time.Duration(now-since) < l.deadlockLimit {
			continue
		}
		l.deadlocked(w)
		return // once, as for a stall
	}
}

// deadlocked reports that the running callback blocked the loop while w
// waits, from the watch's goroutine: the loop's thread is stuck.
func (l *Loop) deadlocked(w *offWaiter) {
	err := &DeadlockError{Handler: l.rec.Name(trace.NameID(l.stalledName.Load())), Future: l.rec.Name(w.future),
		How: "blocked the loop while another goroutine waited", OffLoopWait: true}
	l.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: l.stamp(), Arg0: int64(trace.LintDeadlock),
		Op: w.id, Name: l.rec.Intern(err.Error()), Fd: -1})
	l.endWith(err)
	if l.cfg.OnDeadlock != nil {
		l.rec.Seal() // as for a stall: the harness exits with the trace it has
		l.cfg.OnDeadlock(err)
	}
}
