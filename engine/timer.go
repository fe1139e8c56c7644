package engine

import (
	"container/heap"
	"time"

	"github.com/asynclab/asynclab/engine/trace"
)

// Timer is a callback scheduled on a loop. It is owned by the loop.
type Timer struct {
	l     *Loop
	id    uint64
	when  int64 // ns since run start
	name  trace.NameID
	key   int64 // see task.key
	fn    func()
	index int // position in the heap, -1 when not scheduled
}

// AfterFunc runs fn on the loop, as a callback named name, once d has passed.
func (l *Loop) AfterFunc(name string, d time.Duration, fn func()) *Timer {
	return l.afterFunc(0, name, d, fn)
}

func (l *Loop) afterFunc(key int64, name string, d time.Duration, fn func()) *Timer {
	l.mustOnLoop("AfterFunc")
	now := l.rec.Now()
	t := &Timer{l: l, id: l.newID(), when: now + int64(d), name: l.rec.Intern(name), key: key, fn: fn}
	heap.Push(&l.timers, t)
	l.rec.Emit(trace.Event{Kind: trace.KindTimer, Phase: trace.PhaseCreate, Time: now, Op: t.id,
		Name: t.name, Arg0: t.when, Arg1: key, Fd: -1})
	return t
}

// Stop cancels the timer. It reports whether the timer was still pending.
func (t *Timer) Stop() bool {
	t.l.mustOnLoop("Timer.Stop")
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.l.timers, t.index)
	t.l.rec.Emit(trace.Event{Kind: trace.KindTimer, Phase: trace.PhaseCancel, Time: t.l.stamp(),
		Op: t.id, Name: t.name, Arg1: t.key, Fd: -1})
	return true
}

// runTimers queues the callbacks of every expired timer.
func (l *Loop) runTimers() {
	now := l.rec.Now()
	for len(l.timers) > 0 && l.timers[0].when <= now {
		t := heap.Pop(&l.timers).(*Timer)
		l.rec.Emit(trace.Event{Kind: trace.KindTimer, Phase: trace.PhaseFire, Time: now, Op: t.id,
			Name: t.name, Arg0: t.when, Arg1: t.key, Fd: -1})
		l.queue.push(task{name: t.name, ready: t.when, op: t.id, key: t.key, fn: t.fn})
	}
}

type timerHeap []*Timer

// next returns how long until the earliest timer, if any.
func (h timerHeap) next(now int64) (time.Duration, bool) {
	if len(h) == 0 {
		return 0, false
	}
	d := h[0].when - now
	if d < 0 {
		d = 0
	}
	return time.Duration(d), true
}

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
