package enginebench

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteTable prints the report as aligned tables: the machine, the NOP
// sweep with its ratios against the readiness baseline and the other
// sweeps, the NOP sweep through the loop, the echo, and the targets.
func (r Report) WriteTable(w io.Writer) error {
	var tb table
	p := func(format string, args ...any) { tb.add(fmt.Sprintf(format, args...)) }
	line := func(s string) { tb.writeTo(w); fmt.Fprintln(w, s) }

	m := r.Machine
	line(fmt.Sprintf("machine: %d CPUs, %s; %s; %s", m.CPUs, m.Model, m.Kernel, m.Go))
	for _, n := range m.Notes {
		line("  " + n)
	}

	if len(r.NOP) > 0 {
		line("")
		line(fmt.Sprintf("NOP sweep on the raw ring: ns per NOP, median of %d repeats of %d NOPs", r.Opts.NOPRepeats, r.Opts.NOPOps))
		p("batch\tring\tenters/op")
		for _, s := range r.Sweeps {
			p("\t%s\tring÷%s", s, s)
		}
		p("\tring÷(epoll+read)\t\n")
		for _, pt := range r.NOP {
			p("%d\t%.1f\t%.3f", pt.Batch, pt.Ring, pt.EntersPer)
			for _, s := range r.Sweeps {
				if v, ok := pt.Others[s]; ok && v > 0 {
					p("\t%.1f\t%.2f", v, pt.Ring/v)
				} else {
					p("\t-\t-")
				}
			}
			p("\t%.2f\t\n", pt.Ring/r.EpollRead)
		}
		line(fmt.Sprintf("baselines: epoll_wait(0)+read on a ready eventfd %.1f ns per op; getpid via unix.Syscall %.1f ns",
			r.EpollRead, r.Getpid))
	}

	if len(r.Loop) > 0 {
		line("")
		line(fmt.Sprintf("NOP through the io_uring loop (l.Nop with OnDone+Resubmit, B per turn): ns per NOP, median of %d", r.Opts.NOPRepeats))
		p("batch\tuntraced\ttraced\ttraced÷untraced\tevents/NOP\tdropped\t\n")
		for _, pt := range r.Loop {
			p("%d\t%.1f\t%.1f\t%.3f\t%.1f\t%d\t\n", pt.Batch, pt.Untraced, pt.Traced, pt.Traced/pt.Untraced, pt.EventsPer, pt.Dropped)
		}
	}

	if len(r.Echo) > 0 {
		line("")
		line(fmt.Sprintf("echo: %d connections × %d B, closed loop, %v window after %v warm-up, median of %d", r.Opts.Conns,
			r.Opts.MsgSize, r.Opts.Duration, r.Opts.Warmup, r.Opts.Repeats))
		line("  process CPU = the child's utime+stime (getrusage RUSAGE_SELF, all threads); loop thread = RUSAGE_THREAD read on the loop's own thread")
		base, hasBase := r.EchoFor(ServerEpoll)
		p("server\treq/s\tp50 µs\tp99 µs\tprocess CPU µs/echo\tmin–max\tCPU÷epoll\tloop-thread CPU µs/echo\tmin–max\tevents/echo\tdropped\t\n")
		for _, e := range r.Echo {
			ratio := "-"
			if hasBase && base.CPU > 0 {
				ratio = fmt.Sprintf("%.3f", e.CPU/base.CPU)
			}
			loop, loopRange := "-", "-"
			if e.LoopCPU > 0 {
				loop = fmt.Sprintf("%.3f", e.LoopCPU)
				loopRange = fmt.Sprintf("%.3f–%.3f", e.LoopCPUMin, e.LoopCPUMax)
			}
			ev := "-"
			if e.EventsPer > 0 {
				ev = fmt.Sprintf("%.1f", e.EventsPer)
			}
			p("%s\t%.0f\t%.1f\t%.1f\t%.3f\t%.3f–%.3f\t%s\t%s\t%s\t%s\t%d\t\n", e.Server, e.RPS, us(e.P50), us(e.P99),
				e.CPU, e.CPUMin, e.CPUMax, ratio, loop, loopRange, ev, e.Dropped)
		}
	}

	if len(r.Targets) > 0 {
		line("")
		line("ratios and targets")
		p("ratio\tvalue\ttarget\tmet\t\n")
		for _, t := range r.Check() {
			val, target, met := "-", "-", "not measured"
			if t.Measured {
				val = fmt.Sprintf("%.3f", t.Ratio)
				met = "info"
				if t.Max > 0 {
					met = map[bool]string{true: "yes", false: "NO"}[t.Met]
				}
			}
			if t.Max > 0 {
				target = fmt.Sprintf("≤ %.2f", t.Max)
			}
			p("%s\t%s\t%s\t%s\t\n", t.Name, val, target, met)
		}
	}
	tb.writeTo(w)
	return nil
}

// table collects tab-separated cells and prints them aligned: the first
// column to the left, the others to the right.
type table struct {
	rows [][]string
	cur  strings.Builder
}

// add appends text; a tab ends a cell and a newline ends a row.
func (t *table) add(s string) {
	for _, r := range s {
		switch r {
		case '\n':
			t.endRow()
		default:
			t.cur.WriteRune(r)
		}
	}
}

func (t *table) endRow() {
	row := strings.Split(strings.TrimSuffix(t.cur.String(), "\t"), "\t")
	t.rows = append(t.rows, row)
	t.cur.Reset()
}

func (t *table) writeTo(w io.Writer) {
	if t.cur.Len() > 0 {
		t.endRow()
	}
	var widths []int
	for _, row := range t.rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range t.rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	t.rows = nil
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// String returns the tables of [Report.WriteTable].
func (r Report) String() string {
	var b strings.Builder
	r.WriteTable(&b)
	return b.String()
}
