package engine_test

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
)

// TestLostCountsAStoppedProcess stops the whole test process with SIGSTOP
// for 400 ms while the loop ticks every 5 ms, as a machine that keeps a
// box off the CPU does, and checks that the loop counts the time it lost.
// The test is not parallel: the stop holds every goroutine of the process.
func TestLostCountsAStoppedProcess(t *testing.T) {
	const stop = 400 * time.Millisecond
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		l := newLoop(t, kind)
		stopper := exec.Command("sh", "-c", `kill -STOP "$1"; sleep "$2"; kill -CONT "$1"`,
			"sh", strconv.Itoa(os.Getpid()), strconv.FormatFloat(stop.Seconds(), 'f', 3, 64))
		var (
			lostBefore, lostAfter time.Duration
			began, ended          time.Duration
			stopErr               error
		)
		run(t, l, func() {
			began, lostBefore = l.Now(), l.Lost()
			resumed := make(chan struct{})
			go func() {
				stopErr = stopper.Run()
				close(resumed)
			}()
			var tick func()
			tick = func() {
				select {
				case <-resumed:
					ended, lostAfter = l.Now(), l.Lost()
					l.Stop()
				default:
					l.AfterFunc("tick", 5*time.Millisecond, tick)
				}
			}
			tick()
		})
		if stopErr != nil {
			t.Fatalf("stopping the process: %v", stopErr)
		}
		lost := lostAfter - lostBefore
		t.Logf("%s: lost %v of a %v run, with the process stopped for %v", kind, lost, ended-began, stop)
		if lost < stop*3/4 {
			t.Errorf("Lost() grew by %v while the process was stopped for %v, want at least %v", lost, stop, stop*3/4)
		}
		if lost > ended-began {
			t.Errorf("Lost() grew by %v in a run of %v: it cannot lose more than it ran", lost, ended-began)
		}
	})
}

func TestOverslept(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, c := range []struct {
		name    string
		timeout time.Duration
		took    int64
		want    int64
	}{
		{"returned early", 5 * time.Millisecond, 2 * ms, 0},
		{"on time", 5 * time.Millisecond, 5 * ms, 0},
		{"within the grace", 5 * time.Millisecond, 6 * ms, 0},
		{"past the grace", 5 * time.Millisecond, 8 * ms, 2 * ms},
		{"a poll held off", 0, 2080 * ms, 2079 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := engine.Overslept(c.timeout, c.took); got != c.want {
				t.Errorf("overslept(%v, %v) = %v, want %v", c.timeout, time.Duration(c.took), time.Duration(got), time.Duration(c.want))
			}
		})
	}
}
