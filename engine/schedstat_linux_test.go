package engine

import (
	"runtime"
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
	time.Sleep(20 * time.Millisecond) // let it fall asleep
	first, err := ts.times()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		spin(5 * time.Millisecond) // this thread runs; the other does not
		got, err := ts.times()
		if err != nil {
			t.Fatal(err)
		}
		if got.CPU != first.CPU {
			t.Errorf("times().CPU of a sleeping thread = %d, then %d; want it to stand still", first.CPU, got.CPU)
		}
		if st, err := ts.state(); err != nil || st != 'S' {
			t.Errorf("state() of a thread blocked on a channel = %q, %v; want 'S'", st, err)
		}
	}
}

func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
