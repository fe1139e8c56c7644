package kit

import (
	"sync/atomic"
	"time"

	"github.com/asynclab/asynclab/exercises/report"
)

// ValueTimerLate is the value, in nanoseconds, of how late the latest Go
// timer of the harness's probe fired (see [Env.WatchTimers]).
const ValueTimerLate = report.ValueTimerLate

// timerProbe measures how late this process's Go timers fire: a timer the
// handler keeps on a goroutine of its own (time.AfterFunc, time.NewTimer)
// fires as late as the probe's, and the loop's trace never sees it.
type timerProbe struct {
	late atomic.Int64 // the most any probe timer fired after its due time, in ns
	stop chan struct{}
	done chan struct{}
}

// startTimerProbe arms a timer every period until stopped and keeps how
// late the latest fired.
func startTimerProbe(period time.Duration) *timerProbe {
	p := &timerProbe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTimer(period)
		defer t.Stop()
		for {
			due := time.Now().Add(period)
			t.Reset(period)
			select {
			case <-p.stop:
				return
			case <-t.C:
				// Not the value received: the runtime sends the time the
				// timer was due, not when it fired.
				if late := int64(time.Since(due)); late > p.late.Load() {
					p.late.Store(late)
				}
			}
		}
	}()
	return p
}

// Stop ends the probe and returns how late its latest timer fired.
func (p *timerProbe) Stop() time.Duration {
	close(p.stop)
	<-p.done
	return time.Duration(p.late.Load())
}

// WatchTimers has the harness measure, for the whole run, how late Go
// timers fire in this process, and report it as [ValueTimerLate] when the
// run ends: the allowance for a machine's load that a check of a
// handler's timing needs when the handler may keep its own timers off the
// loop. It costs a wake-up every 10 ms. Call it from drive, once.
func (e *Env) WatchTimers() {
	if e.timers == nil {
		e.timers = startTimerProbe(10 * time.Millisecond)
	}
}
