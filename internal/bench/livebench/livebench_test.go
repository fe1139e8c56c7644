package livebench_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/internal/bench/livebench"
)

// The shape of the load the viewer-lag benchmarks put on the server: a
// run's events arriving as 8 KiB batches (some 180 events) every 5 ms.
const (
	lagMessages = 300
	lagMsgSize  = 8 << 10
	lagRate     = 5 * time.Millisecond
)

func TestMeasureViewerLag(t *testing.T) {
	for _, viewers := range []int{1, 4} {
		t.Run(fmt.Sprintf("viewers=%d", viewers), func(t *testing.T) {
			r, err := livebench.MeasureViewerLag(t.Context(), viewers, 20, 2<<10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Viewers != viewers || r.Messages != 20 || r.Dropped != 0 {
				t.Errorf("MeasureViewerLag(%d viewers, 20 messages) = %+v, want those counts and none dropped", viewers, r)
			}
			if !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.Max) {
				t.Errorf("MeasureViewerLag: p50 %v, p99 %v, max %v; want 0 < p50 <= p99 <= max", r.P50, r.P99, r.Max)
			}
		})
	}
	waitLiveGoroutinesGone(t)
}

func TestMeasureViewerLagCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := livebench.MeasureViewerLag(ctx, 2, 1000, 1<<10, time.Second); err == nil {
		t.Error("MeasureViewerLag with a cancelled context succeeded, want an error")
	}
	waitLiveGoroutinesGone(t)
}

func TestMeasureViewerLagInvalid(t *testing.T) {
	for _, tt := range []struct{ viewers, messages, size int }{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 1, 1}} {
		if _, err := livebench.MeasureViewerLag(t.Context(), tt.viewers, tt.messages, tt.size, 0); err == nil {
			t.Errorf("MeasureViewerLag(%d, %d, %d) succeeded, want an error", tt.viewers, tt.messages, tt.size)
		}
	}
}

// waitLiveGoroutinesGone waits until no goroutine has a frame of package
// live or of this one: a measurement must not leave a connection behind.
func waitLiveGoroutinesGone(t *testing.T) {
	t.Helper()
	const patience = 30 * time.Second // turns a hang into a failure, never a measurement
	deadline := time.Now().Add(patience)
	buf := make([]byte, 1<<20)
	for {
		var left []string
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "asynclab/web/live.") || strings.Contains(g, "asynclab/internal/bench/livebench.") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for the goroutines of packages live and livebench to end:\n%s", patience, strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkViewerLag reports the lag from append to receipt at a few
// viewer counts. ns/op is the length of a whole measurement and means
// nothing; p99-ms is the figure.
func BenchmarkViewerLag(b *testing.B) {
	for _, viewers := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			var p50, p99, worst time.Duration
			n := 0
			for b.Loop() {
				r, err := livebench.MeasureViewerLag(b.Context(), viewers, lagMessages, lagMsgSize, lagRate)
				if err != nil {
					b.Fatal(err)
				}
				if r.Dropped > 0 {
					b.Errorf("%d of %d viewers were dropped", r.Dropped, viewers)
				}
				p50, p99, worst = p50+r.P50, p99+r.P99, max(worst, r.Max)
				n++
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
			b.ReportMetric(ms(p50), "p50-ms")
			b.ReportMetric(ms(p99), "p99-ms")
			b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkMaxViewers doubles the viewers until the p99 lag passes 100 ms
// and logs a table of every step (run it with -benchtime=1x).
func BenchmarkMaxViewers(b *testing.B) {
	for b.Loop() {
		steps, err := livebench.MaxViewers(b.Context(), 100*time.Millisecond, lagMessages, lagMsgSize, lagRate)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%8s %10s %10s %10s %8s", "viewers", "p50", "p99", "max", "dropped")
		for _, r := range steps {
			b.Logf("%8d %10v %10v %10v %8d", r.Viewers, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Dropped)
		}
	}
	b.ReportMetric(0, "ns/op")
}
