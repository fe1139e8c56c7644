package kit

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// spin computes without a call, so that with asynchronous preemption off
// nothing else runs on its P until it is done.
//
//go:noinline
func spin(n int) int {
	x := 1
	for i := 0; i < n; i++ {
		x = x*31 + i
	}
	return x
}

// TestTimerProbeSeesAStarvedRuntime holds the only P with a goroutine that
// cannot be preempted, as a machine's load holds a box's threads off the
// CPU: the probe's timer cannot fire until the spinner is done, and the
// probe must report about as much lateness as the spin lasted. It runs in
// a child process, the only way to turn asynchronous preemption off.
func TestTimerProbeSeesAStarvedRuntime(t *testing.T) {
	if os.Getenv("KIT_TIMER_PROBE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTimerProbeSeesAStarvedRuntime$", "-test.v")
		cmd.Env = append(os.Environ(), "KIT_TIMER_PROBE_CHILD=1", "GODEBUG=asyncpreemptoff=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := startTimerProbe(time.Millisecond)
	time.Sleep(5 * time.Millisecond) // let the probe arm its timer

	// Each round holds the P from start to end; the probe runs only
	// between rounds. Double the rounds until one lasts 150 ms.
	var held time.Duration
	for n := 1 << 20; held < 150*time.Millisecond; n *= 2 {
		begin := time.Now()
		spin(n)
		held = time.Since(begin)
	}
	late := p.Stop()
	t.Logf("the P was held for %v; the probe's latest timer fired %v late", held, late)
	if late < held/2 {
		t.Errorf("the probe saw %v of lateness while the runtime was held for %v", late, held)
	}
}
