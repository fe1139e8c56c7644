package engine

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestThreadStatFromAnotherThread: the deadlock watch reads a sleeping
// loop thread's times and state from its own goroutine. They must be that
// thread's, not the reader's: its CPU time stands still while it sleeps.
func TestThreadStatFromAnotherThread(t *testing.T) {
	opened := make(chan *threadStat)
	wake := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ts, err := openThreadStat(true)
		if err != nil {
			t.Error(err)
			close(opened)
			return
		}
		opened <- ts
		<-wake // asleep until the test is done
		ts.close()
	}()
	ts := <-opened
	if ts == nil {
		return
	}
	defer close(wake)
	// Let it fall asleep: on a busy machine it may wait for a CPU before
	// it gets to block, so wait until it is asleep.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st, err := ts.state(); err == nil && st == 'S' || time.Now().After(deadline) {
			break
		}
	}
	first, err := ts.times()
	if err != nil {
		t.Fatal(err)
	}
	// The reader spins 25 ms in all. Read from the reader's thread, the
	// CPU time would grow by about that much; the sleeper's may grow by a
	// few µs if the runtime wakes it (a signal, a GC), never by
	// milliseconds.
	const spun, slack = 5 * time.Millisecond, time.Millisecond
	var states []byte
	for range 5 {
		spin(spun) // this thread runs; the other does not
		got, err := ts.times()
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Duration(got.CPU - first.CPU); d > slack {
			t.Errorf("times().CPU of a sleeping thread = %d, then %d (+%v while the reader spun %v); want it to stand still", first.CPU, got.CPU, d, spun)
		}
		st, err := ts.state()
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
	}
	// The reader is running whenever it reads: read from its own thread,
	// the state would be 'R' every time. The sleeper may be woken for a
	// moment by the runtime, so one 'S' is enough.
	if !slices.Contains(states, 'S') {
		t.Errorf("state() of a thread blocked on a channel = %q; want 'S' at least once", states)
	}
}

func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
