package enginebench

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/uring"
)

// TestMain lets the test binary act as the echo server child.
func TestMain(m *testing.M) {
	ServeChild()
	os.Exit(m.Run())
}

func skipWithoutUring(tb testing.TB) {
	tb.Helper()
	if st := uring.Check(); !st.Available {
		tb.Skipf("io_uring unavailable on this kernel: %s", st.Reason)
	}
}

// TestEcho runs a short echo against each of our servers and checks only
// correctness: echoes complete and every one is byte-identical to what was
// sent. Timings are never asserted.
func TestEcho(t *testing.T) {
	for _, srv := range Servers() {
		name := srv.Name
		if name == ServerNet {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if name == ServerUring || name == ServerUringTraced {
				skipWithoutUring(t)
			}
			o := Options{Conns: 20, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond}
			s, err := echoOnce(o, srv)
			if err != nil {
				t.Fatalf("echoOnce(%s) = %v, want nil", name, err)
			}
			if s.echoes == 0 || s.mismatches != 0 {
				t.Errorf("echoOnce(%s): %d echoes, %d mismatches; want > 0 and 0", name, s.echoes, s.mismatches)
			}
		})
	}
}

func TestHistQuantile(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d < -0.02 || d > 0.02 {
			t.Errorf("Quantile(%v) = %v, want %v ± 2%%", tc.q, got, tc.want)
		}
	}
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, 1<<63 + 5} {
		if i := histIndex(v); histLow(i) > v || (i+1 < histBuckets && histLow(i+1) <= v) {
			t.Errorf("histIndex(%d) = %d covering [%d, %d)", v, i, histLow(i), histLow(i+1))
		}
	}
}

func TestReportTable(t *testing.T) {
	r := Report{
		Opts:      Options{}.withDefaults(),
		NOP:       []NOPPoint{{Batch: 1, Ring: 500, EntersPer: 1, Others: map[string]float64{"liburing": 450}}},
		Sweeps:    []string{"liburing"},
		EpollRead: 850,
		Echo: []EchoResult{
			{Server: ServerEpoll, RPS: 1000, CPU: 10},
			{Server: ServerUring, RPS: 1200, CPU: 8},
		},
		Targets: []Target{
			{Name: "uring ÷ epoll", Num: EchoKey(ServerUring, "cpu"), Den: EchoKey(ServerEpoll, "cpu"), Max: 0.85},
			{Name: "ring ÷ liburing", Num: NOPKey("ring", 1), Den: NOPKey("liburing", 1), Max: 1.2},
			{Name: "missing", Num: EchoKey("gnet", "cpu"), Den: EchoKey(ServerEpoll, "cpu"), Max: 1},
		},
	}
	got := r.Check()
	want := []struct {
		measured, met bool
		ratio         float64
	}{{true, true, 0.8}, {true, true, 500.0 / 450}, {false, false, 0}}
	for i, w := range want {
		if got[i].Measured != w.measured || got[i].Met != w.met || (w.measured && abs(got[i].Ratio-w.ratio) > 1e-9) {
			t.Errorf("Check()[%d] = %+v, want measured=%v met=%v ratio=%v", i, got[i], w.measured, w.met, w.ratio)
		}
	}
	if s := r.String(); len(s) == 0 {
		t.Errorf("String() is empty")
	}
}

func abs(x float64) float64 { return max(x, -x) }

var benchBatches = []int{1, 2, 4, 8, 16, 32, 64, 128, 256}

// BenchmarkNOPRing is the raw ring NOP cost: ns/op is per NOP, B NOPs per
// io_uring_enter.
func BenchmarkNOPRing(b *testing.B) {
	skipWithoutUring(b)
	for _, batch := range benchBatches {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r, err := uring.Setup(uring.Options{Entries: 256})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			cqes := make([]uring.CQE, batch)
			b.ResetTimer()
			enters, err := NOPRing(r, cqes, batch, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(enters)/float64(b.N), "enters/op")
		})
	}
}

// BenchmarkEpollRead is the readiness baseline: one epoll_wait that finds
// the eventfd ready plus one read, per op.
func BenchmarkEpollRead(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e, err := NewEpollRead()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	if err := e.Run(b.N); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGetpid is the cheapest system call through unix.Syscall.
func BenchmarkGetpid(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	Getpid(b.N)
}

// BenchmarkLoopNOP runs NOPs through an io_uring loop, B per turn, with
// the recorder on (and drained) or off. ns/op is per NOP and excludes the
// loop's setup and a warm-up of N/8 NOPs.
func BenchmarkLoopNOP(b *testing.B) {
	skipWithoutUring(b)
	for _, mode := range []string{"traced", "untraced"} {
		for _, batch := range benchBatches {
			b.Run(mode+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				ops := max(b.N, 8)
				d, events, dropped, err := LoopNOP(context.Background(), engine.Uring, mode == "traced", batch, ops)
				if err != nil {
					b.Fatal(err)
				}
				// The loop timed itself; report that instead of the
				// benchmark's own clock, which includes setup.
				b.ReportMetric(float64(d), "ns/op")
				if mode == "traced" {
					b.ReportMetric(float64(events)/float64(ops+ops/8), "events/op")
					b.ReportMetric(float64(dropped), "dropped")
				}
			})
		}
	}
}
