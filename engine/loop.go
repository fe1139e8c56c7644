package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// Kind names a loop backend.
type Kind string

// The backends.
const (
	Epoll Kind = "epoll"
	Uring Kind = "uring"
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
	// a sandboxed harness flushes the trace and exits there. Zero means no
	// watchdog.
	StallLimit time.Duration
	OnStall    func(*StallError)
}

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

	// Stall watchdog state, read by another goroutine.
	handlerStart atomic.Int64  // rec.Now() when the current handler began; 0 when idle
	stalledName  atomic.Uint32 // name of the running handler, for the watchdog
}

type task struct {
	name  trace.NameID
	ready int64 // when the task became ready (ns since run start)
	op    uint64
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

// OnLoop reports whether the caller runs on the loop's own thread. It is safe
// for concurrent use.
func (l *Loop) OnLoop() bool {
	t := l.tid.Load()
	return t != 0 && int64(gettid()) == t
}

// Run locks the calling goroutine to its OS thread, sets up the backend, runs
// start as the first callback and then serves events until [Loop.Stop] is
// called, ctx is done, or a handler deadlocks, panics or stalls. It returns
// nil after Stop, ctx.Err() after cancellation, and otherwise the error that
// ended the run (*DeadlockError, *PanicError, *StallError).
func (l *Loop) Run(ctx context.Context, name string, start func()) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.tid.Store(int64(gettid()))
	defer l.tid.Store(0)

	if err := l.openBackend(); err != nil {
		return err
	}
	defer func() {
		l.closed.Store(true)
		// The backend first: it takes back what the kernel still holds.
		if cerr := l.be.close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s backend: %w", l.kind, cerr)
		}
		l.failPending()
		l.rec.Flush()
	}()

	stopWatch := context.AfterFunc(ctx, func() { l.post(task{fn: func() { l.stopping = true }}) })
	defer stopWatch()
	if l.cfg.StallLimit > 0 {
		done := make(chan struct{})
		defer close(done)
		go l.watchdog(done)
	}

	l.Queue(name, start)
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
		if err := l.be.wait(timeout); err != nil {
			return fmt.Errorf("loop %d: %w", l.cfg.ID, err)
		}
		l.rec.Flush()
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
	l.post(task{fn: func() { l.stopping = true }})
}

// Queue appends fn to the loop's FIFO of ready callbacks. It must be called
// on the loop; other goroutines use [Loop.Post].
func (l *Loop) Queue(name string, fn func()) {
	l.mustOnLoop("Queue")
	l.queueTask(task{name: l.rec.Intern(name), ready: l.stamp(), fn: fn})
}

func (l *Loop) queueTask(t task) { l.queue.push(t) }

// Post hands fn to the loop from any goroutine. The loop runs it as a
// callback named name. Wakeups coalesce: many posts between two loop
// iterations cost one eventfd write. Post is safe for concurrent use and
// reports false if the loop has stopped.
func (l *Loop) Post(name string, fn func()) bool {
	return l.post(task{name: l.rec.Intern(name), fn: fn})
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
	// begin, which halves the clock reads on a busy loop.
	now := int64(-1)
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
	if l.cfg.StallLimit > 0 {
		if start == 0 {
			start = l.rec.Now()
		}
		l.stalledName.Store(uint32(t.name))
		l.handlerStart.Store(start)
	}
	l.rec.Emit(trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseBegin, Time: start,
		Name: t.name, Op: t.op, Arg0: t.ready, Fd: -1})
	if l.cfg.StallLimit > 0 {
		// Publish now, so that a harness draining the trace when this
		// handler stalls sees it begin.
		l.rec.Flush()
	}
	defer func() {
		end = l.stamp()
		if l.cfg.StallLimit > 0 {
			l.handlerStart.Store(0)
		}
		if v := recover(); v != nil {
			l.fatal = l.panicError(t, v)
		}
		l.rec.Emit(trace.Event{Kind: trace.KindHandler, Phase: trace.PhaseEnd, Time: end,
			Dur: end - start, Name: t.name, Op: t.op, Fd: -1})
		l.current = task{}
	}()
	t.fn()
	return end // set by the deferred function
}

func (l *Loop) panicError(t task, v any) error {
	if err, ok := v.(*DeadlockError); ok {
		return err
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

// mustOnLoop panics with a clear message when a loop-only method is called
// from another thread. The panic is recorded as an off-loop lint first, so
// the grader sees it even if the goroutine's panic kills the process.
func (l *Loop) mustOnLoop(what string) {
	if l.cfg.TrustHandlers || l.tid.Load() == 0 || l.OnLoop() {
		return
	}
	msg := fmt.Sprintf("%s called off the loop thread; use Loop.Post to hand work to the loop", what)
	l.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: l.stamp(), Arg0: int64(trace.LintOffLoop),
		Name: l.rec.Intern(msg), Fd: -1})
	panic("engine: " + msg)
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
					l.cfg.OnStall(err)
				}
				return // once: the loop is stuck and will not be told twice
			}
		}
	}
}
