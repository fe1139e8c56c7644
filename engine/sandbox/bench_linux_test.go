package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkOverhead measures, in the same run, a trivial static program
// started plainly and in the sandbox, b.N times each, interleaved, and
// reports the medians and their ratio:
//
//	go test -run '^$' -bench Overhead -benchtime 20x ./engine/sandbox/
func BenchmarkOverhead(b *testing.B) {
	overhead(b, boxSpec(b, "control/true", DefaultLimits()))
}

// BenchmarkOverheadDir is BenchmarkOverhead with the program's directory
// bound, as the grader binds it (read-only directories are shown through
// an overlay):
//
//	go test -run '^$' -bench OverheadDir -benchtime 20x ./engine/sandbox/
func BenchmarkOverheadDir(b *testing.B) {
	prog := program(b, "control/true")
	dir := b.TempDir()
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(prog)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prog"), data, 0o755); err != nil {
		b.Fatal(err)
	}
	spec := Spec{Path: "/box/prog", Binds: []Bind{{Host: dir, Inside: "/box"}}, Limits: DefaultLimits()}
	overhead(b, spec)
}

// overhead runs control/true plainly and as spec, interleaved.
func overhead(b *testing.B, spec Spec) {
	prog := program(b, "control/true")
	var plain, boxed []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := exec.Command(prog).Run(); err != nil {
			b.Fatal(err)
		}
		plain = append(plain, time.Since(t0))
		t0 = time.Now()
		res, err := Run(context.Background(), spec)
		if err != nil || res.Verdict != VerdictOK {
			b.Fatalf("Run() = %+v, %v", res, err)
		}
		boxed = append(boxed, time.Since(t0))
	}
	mp, mb := median(plain), median(boxed)
	b.ReportMetric(float64(mp.Microseconds()), "plain-µs")
	b.ReportMetric(float64(mb.Microseconds()), "sandbox-µs")
	b.ReportMetric(float64(mb)/float64(mp), "ratio")
	b.Logf("median of %d: plain exec %v, sandbox %v, ratio %.1f", len(plain), mp, mb, float64(mb)/float64(mp))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkConcurrent starts N sandboxed runs of a one-second, CPU-light
// program at once and reports how long the batch took and how many runs
// did not end ok:
//
//	go test -run '^$' -bench Concurrent -benchtime 1x ./engine/sandbox/
func BenchmarkConcurrent(b *testing.B) {
	spec := boxSpec(b, "control/light", DefaultLimits())
	for _, n := range []int{4, 8, 16, 32} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			for b.Loop() {
				var wg sync.WaitGroup
				var mu sync.Mutex
				failures := 0
				var slowest time.Duration
				t0 := time.Now()
				for range n {
					wg.Go(func() {
						res, err := Run(context.Background(), spec)
						mu.Lock()
						defer mu.Unlock()
						if err != nil || res.Verdict != VerdictOK {
							failures++
							if err == nil {
								err = fmt.Errorf("%s: %s", res.Verdict, res.Reason)
							}
							b.Logf("run failed: %v", err)
							return
						}
						slowest = max(slowest, res.Wall)
					})
				}
				wg.Wait()
				wall := time.Since(t0)
				b.ReportMetric(wall.Seconds(), "batch-s")
				b.ReportMetric(slowest.Seconds(), "slowest-run-s")
				b.ReportMetric(float64(failures), "failures")
				b.Logf("N=%d: batch %v, slowest program wall %v, failures %d", n, wall.Round(time.Millisecond), slowest.Round(time.Millisecond), failures)
			}
		})
	}
}

// BenchmarkSyscallCost measures what the seccomp filter adds to a system
// call, plainly and in a box, in the same run, fastest of five rounds of a
// million calls each: getpid, one of the first calls the filter checks,
// and io_uring_register, the last of the generic list:
//
//	go test -run '^$' -bench SyscallCost -benchtime 3x ./engine/sandbox/
func BenchmarkSyscallCost(b *testing.B) {
	for _, which := range []string{"first", "last"} {
		b.Run(which, func(b *testing.B) {
			prog := program(b, "control/getpid")
			spec := boxSpec(b, "control/getpid", DefaultLimits(), which)
			var plain, boxed []float64
			for b.Loop() {
				out, err := exec.Command(prog, which).Output()
				if err != nil {
					b.Fatal(err)
				}
				plain = append(plain, nsPerCall(b, string(out)))
				res, err := Run(context.Background(), spec)
				if err != nil || res.Verdict != VerdictOK {
					b.Fatalf("Run() = %+v, %v", res, err)
				}
				boxed = append(boxed, nsPerCall(b, string(res.Stdout)))
			}
			p, x := slices.Min(plain), slices.Min(boxed)
			b.ReportMetric(p, "plain-ns/call")
			b.ReportMetric(x, "box-ns/call")
			b.ReportMetric(x/p, "ratio")
			b.Logf("%s call on the list: plain %.1f ns, in a box %.1f ns (+%.1f ns), ratio %.2f", which, p, x, x-p, x/p)
		})
	}
}

func nsPerCall(b *testing.B, out string) float64 {
	var ns float64
	if _, err := fmt.Sscanf(out, "%f", &ns); err != nil {
		b.Fatalf("getpid printed %q: %v", out, err)
	}
	return ns
}
