package headofline

import "testing"

func TestSpanStarved(t *testing.T) {
	ms := func(f float64) int64 { return int64(f * 1e6) }
	for _, c := range []struct {
		name              string
		dur, cpu, delay   int64
		measured, starved bool
	}{
		// Round 9 of the stability sitting: callbacks that only start
		// goroutines, in a box kept off the CPU.
		{"round 9, coroutine", ms(55.39), ms(0.89), ms(25.64), true, true},
		{"round 9, future", ms(271.02), ms(0.45), ms(118.59), true, true},
		// A handler that blocks on a worker sleeps far longer than it
		// waits for a CPU, loaded or not.
		{"blocks on a worker", ms(310), ms(0.5), ms(12), true, false},
		{"blocks, quiet box", ms(90), ms(0.2), ms(0.1), true, false},
		{"computes inline", ms(40), ms(30), ms(10), true, false},
		{"not measured", ms(55), 0, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := span{start: 0, end: c.dur, cpu: c.cpu, delay: c.delay, measured: c.measured}
			if got := s.starved(); got != c.starved {
				t.Errorf("starved() = %v for %v ms, %v cpu, %v delay; want %v", got, c.dur, c.cpu, c.delay, c.starved)
			}
		})
	}
}
