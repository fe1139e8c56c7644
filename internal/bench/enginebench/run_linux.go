package enginebench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/uring"
)

// Run runs the benchmark: the NOP sweep with the extra sweeps of
// opts.Sweeps, the NOP sweep through the loop with tracing on and off, and
// the echo against the built-in servers and extra. The binary must call
// [ServeChild] at the start of main.
func Run(ctx context.Context, opts Options, extra ...Server) (Report, error) {
	o := opts.withDefaults()
	r := Report{Machine: DescribeMachine(), Opts: o}
	r.Targets = append(DefaultTargets(o), o.Targets...)
	for _, s := range o.Sweeps {
		r.Sweeps = append(r.Sweeps, s.Name)
	}
	o = o.pinning()
	if o.ServerCPU < 0 {
		r.Machine.Notes = append(r.Machine.Notes, "not pinned: the process may not run on both ServerCPU and LoadCPU")
	} else {
		r.Machine.Notes = append(r.Machine.Notes, fmt.Sprintf(
			"pinned: micro benchmarks and server child on CPU %d, load generator on CPU %d; server children run with GOMAXPROCS=1 (2 for the traced loops: one P for the trace drainer)",
			o.ServerCPU, o.LoadCPU))
	}
	r.Opts = o
	if !o.SkipNOP {
		if err := runNOP(ctx, o, &r); err != nil {
			return r, err
		}
	}
	if !o.SkipLoop {
		if err := runLoop(ctx, o, &r); err != nil {
			return r, err
		}
	}
	if !o.SkipEcho {
		if err := runEcho(ctx, o, &r, extra); err != nil {
			return r, err
		}
	}
	return r, nil
}

// runNOP measures the ring sweep, the baselines and the extra sweeps,
// interleaved repeat by repeat so that drift on a shared machine hits them
// alike.
func runNOP(ctx context.Context, o Options, r *Report) error {
	nb := len(o.Batches)
	ring := make([][]float64, nb)
	enters := make([][]float64, nb)
	others := make(map[string][][]float64)
	var epollRead, getpid []float64
	err := onCPU(o.ServerCPU, func() error {
		rg, err := uring.Setup(uring.Options{Entries: uint32(slices.Max(o.Batches))})
		if err != nil {
			return fmt.Errorf("ring setup: %w", err)
		}
		defer rg.Close()
		er, err := NewEpollRead()
		if err != nil {
			return err
		}
		defer er.Close()
		cqes := make([]uring.CQE, slices.Max(o.Batches))
		// Warm up caches, the CPU's frequency and the ring.
		if _, err := NOPRing(rg, cqes, 1, o.NOPOps/8); err != nil {
			return err
		}
		for rep := range o.NOPRepeats {
			if err := ctx.Err(); err != nil {
				return err
			}
			for i, b := range o.Batches {
				t := time.Now()
				n, err := NOPRing(rg, cqes, b, o.NOPOps)
				if err != nil {
					return fmt.Errorf("ring NOP batch %d: %w", b, err)
				}
				ring[i] = append(ring[i], float64(time.Since(t))/float64(o.NOPOps))
				enters[i] = append(enters[i], float64(n)/float64(o.NOPOps))
			}
			ops := o.NOPOps / 4
			t := time.Now()
			if err := er.Run(ops); err != nil {
				return err
			}
			epollRead = append(epollRead, float64(time.Since(t))/float64(ops))
			t = time.Now()
			Getpid(ops)
			getpid = append(getpid, float64(time.Since(t))/float64(ops))
			for _, s := range o.Sweeps {
				res, err := s.Run(ctx, o.Batches, o.NOPOps)
				if err != nil {
					return fmt.Errorf("%s sweep: %w", s.Name, err)
				}
				if others[s.Name] == nil {
					others[s.Name] = make([][]float64, nb)
				}
				for i, b := range o.Batches {
					if v, ok := res[b]; ok {
						others[s.Name][i] = append(others[s.Name][i], v)
					}
				}
			}
			o.progress("nop sweep: repeat %d/%d done", rep+1, o.NOPRepeats)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, b := range o.Batches {
		p := NOPPoint{Batch: b, Ring: median(ring[i]), EntersPer: median(enters[i]), Others: map[string]float64{}}
		for name, vs := range others {
			if len(vs[i]) > 0 {
				p.Others[name] = median(vs[i])
			}
		}
		r.NOP = append(r.NOP, p)
	}
	r.EpollRead = median(epollRead)
	r.Getpid = median(getpid)
	return nil
}

// runLoop measures NOPs through an io_uring loop, traced and untraced,
// alternating so that both see the same machine.
func runLoop(ctx context.Context, o Options, r *Report) error {
	type acc struct {
		untraced, traced, eventsPer []float64
		dropped                     uint64
	}
	res := make([]acc, len(o.LoopBatches))
	err := onCPU(o.ServerCPU, func() error {
		// One throwaway run warms the loop's tables and the ring.
		if _, _, _, err := LoopNOP(ctx, engine.Uring, false, 64, o.NOPOps/8); err != nil {
			return fmt.Errorf("loop NOP: %w", err)
		}
		for rep := range o.NOPRepeats {
			for i, b := range o.LoopBatches {
				for _, traced := range []bool{false, true} {
					var d time.Duration
					var events, dropped uint64
					// A traced run that dropped events did less tracing
					// work than it should have, which flatters tracing: run
					// it again, a few times at most, and report what drops
					// remain.
					for try := 0; try == 0 || (traced && dropped > 0 && try < 3); try++ {
						var err error
						d, events, dropped, err = LoopNOP(ctx, engine.Uring, traced, b, o.NOPOps)
						if err != nil {
							return fmt.Errorf("loop NOP batch %d traced=%v: %w", b, traced, err)
						}
					}
					if traced {
						res[i].traced = append(res[i].traced, float64(d))
						res[i].eventsPer = append(res[i].eventsPer, float64(events)/float64(o.NOPOps+o.NOPOps/8))
						res[i].dropped += dropped
					} else {
						res[i].untraced = append(res[i].untraced, float64(d))
					}
				}
			}
			o.progress("loop nop: repeat %d/%d done", rep+1, o.NOPRepeats)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, b := range o.LoopBatches {
		r.Loop = append(r.Loop, LoopPoint{Batch: b, Untraced: median(res[i].untraced), Traced: median(res[i].traced),
			EventsPer: median(res[i].eventsPer), Dropped: res[i].dropped})
	}
	return nil
}

// echoSample is one echo run of one server.
type echoSample struct {
	echoes     uint64
	mismatches uint64
	rps        float64
	p50, p99   time.Duration
	cpuPer     float64 // process CPU µs per echo
	loopPer    float64 // loop-thread CPU µs per echo; -1 if not measured
	events     uint64
	dropped    uint64
}

func runEcho(ctx context.Context, o Options, r *Report, extra []Server) error {
	// The extra servers run right after the untraced built-in ones, so
	// that the baselines sit next to each other in time and in the table.
	var all []Server
	for _, s := range Servers() {
		all = append(all, s)
		if s.Name == ServerNet {
			all = append(all, extra...)
		}
	}
	var servers []Server
	for _, s := range all {
		if o.Servers == nil || slices.Contains(o.Servers, s.Name) {
			servers = append(servers, s)
		}
	}
	samples := make([][]echoSample, len(servers))
	for rep := range o.Repeats {
		for i, s := range servers {
			if err := ctx.Err(); err != nil {
				return err
			}
			sm, err := echoOnce(o, s)
			if err != nil {
				return fmt.Errorf("echo %s: %w", s.Name, err)
			}
			samples[i] = append(samples[i], sm)
			loop := "-"
			if sm.loopPer >= 0 {
				loop = fmt.Sprintf("%.2f", sm.loopPer)
			}
			o.progress("echo %-12s repeat %d/%d: %8.0f req/s  p50 %6.1f µs  p99 %6.1f µs  CPU %5.2f µs/echo  loop thread %s µs/echo",
				s.Name, rep+1, o.Repeats, sm.rps, us(sm.p50), us(sm.p99), sm.cpuPer, loop)
		}
	}
	for i, s := range servers {
		var rps, p50, p99, cpu, loop, evs []float64
		res := EchoResult{Server: s.Name, Repeats: len(samples[i])}
		for _, sm := range samples[i] {
			rps = append(rps, sm.rps)
			p50 = append(p50, float64(sm.p50))
			p99 = append(p99, float64(sm.p99))
			cpu = append(cpu, sm.cpuPer)
			if sm.loopPer >= 0 {
				loop = append(loop, sm.loopPer)
			}
			evs = append(evs, float64(sm.events)/float64(max(sm.echoes, 1)))
			res.Echoes += sm.echoes
			res.Mismatches += sm.mismatches
			res.Dropped += sm.dropped
		}
		res.RPS, res.CPU = median(rps), median(cpu)
		res.P50, res.P99 = time.Duration(median(p50)), time.Duration(median(p99))
		res.CPUMin, res.CPUMax = slices.Min(cpu), slices.Max(cpu)
		if len(loop) == len(samples[i]) {
			res.LoopCPU, res.LoopCPUMin, res.LoopCPUMax = median(loop), slices.Min(loop), slices.Max(loop)
		}
		res.EventsPer = median(evs)
		r.Echo = append(r.Echo, res)
	}
	return nil
}

// echoOnce runs the echo once against server (built in, or known to the
// child through [ServeChild]'s extra servers): it starts the
// child, connects, warms up, then measures for o.Duration. The server's
// process CPU time is its rusage after it exits minus its own reading at
// the start of the window. Its loop thread's CPU time, when the server can
// tell it, is the difference of the thread's own readings at the start and
// the end of the window.
func echoOnce(o Options, server Server) (echoSample, error) {
	o = o.withDefaults().pinning()
	port, err := freePort()
	if err != nil {
		return echoSample{}, fmt.Errorf("find a free port: %w", err)
	}
	c, err := startChild(server, port, o.MsgSize, o.ServerCPU, o.ProfileDir)
	if err != nil {
		return echoSample{}, err
	}
	defer c.kill()
	var s echoSample
	err = onCPU(o.LoadCPU, func() error {
		g, err := NewLoad(port, o.Conns, o.MsgSize, 10*time.Second)
		if err != nil {
			return err
		}
		// The connections stay open until the child is gone, so that its
		// CPU time does not include handling their close.
		defer g.Close()
		if err := g.Run(o.Warmup); err != nil {
			return err
		}
		m0, err := c.mark()
		if err != nil {
			return err
		}
		g.Reset()
		t := time.Now()
		if err := g.Run(o.Duration); err != nil {
			return err
		}
		elapsed := time.Since(t)
		m1, err := c.mark()
		if err != nil {
			return err
		}
		cpu, err := c.stop()
		if err != nil {
			return err
		}
		if g.Mismatches > 0 {
			return fmt.Errorf("%d of %d echoes differ from what was sent; first: %s", g.Mismatches, g.Echoes, g.FirstMismatch)
		}
		if g.Echoes == 0 {
			return errors.New("no echo completed")
		}
		loopPer := -1.0
		if m0.loopCPU >= 0 && m1.loopCPU >= 0 {
			loopPer = float64(m1.loopCPU-m0.loopCPU) / 1e3 / float64(g.Echoes)
		}
		s = echoSample{
			echoes:     g.Echoes,
			mismatches: g.Mismatches,
			rps:        float64(g.Echoes) / elapsed.Seconds(),
			p50:        g.Hist.Quantile(0.50),
			p99:        g.Hist.Quantile(0.99),
			cpuPer:     float64(cpu-m0.cpu) / 1e3 / float64(g.Echoes),
			loopPer:    loopPer,
			events:     m1.events - m0.events,
			dropped:    m1.dropped - m0.dropped,
		}
		return nil
	})
	return s, err
}

// pinning turns off pinning (CPU -1) unless the process may run on both
// ServerCPU and LoadCPU and they differ.
func (o Options) pinning() Options {
	var set unix.CPUSet
	if o.ServerCPU < 0 || o.LoadCPU < 0 || o.ServerCPU == o.LoadCPU ||
		unix.SchedGetaffinity(0, &set) != nil || !set.IsSet(o.ServerCPU) || !set.IsSet(o.LoadCPU) {
		o.ServerCPU, o.LoadCPU = -1, -1
	}
	return o
}

// DescribeMachine reports the CPU count and model, the kernel and the Go
// version.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) +
			" " + unix.ByteSliceToString(u.Machine[:])
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if st := uring.Check(); !st.Available {
		m.Notes = append(m.Notes, "io_uring unavailable: "+st.Reason)
	}
	return m
}
