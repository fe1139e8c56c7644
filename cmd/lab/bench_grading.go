package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
)

// mixedCode is one submission of a burst: an exercise's reference,
// starter or a known-wrong variant, and whether it should pass.
type mixedCode struct {
	exercise, what, code string
	pass                 bool
}

// mixedCodes returns n submissions: every exercise's reference, starter
// and known-wrong variants in turn.
func mixedCodes(n int) []mixedCode {
	var out []mixedCode
	exs := catalog.All()
	for i := 0; len(out) < n; i++ {
		ex := exs[i%len(exs)]
		c := mixedCode{ex.Slug, "reference", string(ex.Reference), true}
		switch k := i / len(exs) % (2 + len(ex.Variants)); k {
		case 0:
		case 1:
			c.what, c.code, c.pass = "starter", string(ex.Starter), false
		default:
			v := ex.Variants[k-2]
			c.what, c.code, c.pass = "variant "+v.Name, string(v.Source), false
		}
		out = append(out, c)
	}
	return out
}

// labProcess starts the lab binary with args; tests replace it.
var labProcess = func(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, args...), nil
}

// child is a lab serve or lab worker the benchmark started.
type child struct {
	cmd  *exec.Cmd
	base string // serve's address
}

// startChild starts `lab args...` and waits until its log says ready; a
// serve's address is read from its first line of output.
func startChild(ctx context.Context, ready string, args ...string) (*child, error) {
	cmd, err := labProcess(args...)
	if err != nil {
		return nil, err
	}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd}
	if args[0] == "serve" {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		m := regexp.MustCompile(`http://(\S+)/`).FindStringSubmatch(line)
		if err != nil || m == nil {
			c.stop()
			return nil, fmt.Errorf("lab %s did not say where it listens: %q, %v", args[0], line, err)
		}
		c.base = "http://" + m[1]
		go io.Copy(io.Discard, stdout)
	}
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ready) {
				found <- true
				break
			}
		}
		found <- false
		io.Copy(io.Discard, stderr)
	}()
	select {
	case ok := <-found:
		if !ok {
			c.stop()
			return nil, fmt.Errorf("lab %s exited before it was ready", args[0])
		}
	case <-time.After(5 * time.Minute):
		c.stop()
		return nil, fmt.Errorf("lab %s was not ready in 5 minutes", args[0])
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	return c, nil
}

// stop asks the process to stop, and kills it after its drain.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// burstSetup is one way of hosting the lab that the benchmark measures.
type burstSetup struct {
	name    string
	db      string // "" for SQLite
	submit  int    // serve's own submission workers
	workers int    // lab worker processes
}

// burstResult is what one burst measured.
type burstResult struct {
	setup      burstSetup
	n          int
	wall       time.Duration // first submit to last verdict
	p50, p95   time.Duration // submit to verdict
	max        time.Duration
	practice   time.Duration // a practice Run's submit to first event, during the burst
	wrong      int           // verdicts that were not the expected ones
	unfinished int
}

// runBurst hosts the lab as s says, submits n mixed submissions from n
// students at once, starts one practice Run a second into the burst, and
// measures each submission's submit to verdict.
// The data directories under dir are the same for every setup, so that
// the build template is made once.
func runBurst(ctx context.Context, dir string, s burstSetup, n int, progress io.Writer) (*burstResult, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dir + "/serve", "--submit-workers", fmt.Sprint(s.submit)}
	if s.db != "" {
		args = append(args, "--db", s.db)
	}
	fmt.Fprintf(progress, "%s: starting\n", s.name)
	srv, err := startChild(ctx, "grader ready", args...)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	for i := range s.workers {
		w, err := startChild(ctx, "worker ready", "worker", "--db", s.db, "--data", fmt.Sprintf("%s/worker%d", dir, i))
		if err != nil {
			return nil, err
		}
		defer w.stop()
	}

	codes := mixedCodes(n)
	type timing struct {
		submitted, verdict time.Time
		ok                 bool
	}
	times := make([]timing, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8) // submitters at once, as a class clicking
	start := time.Now()
	for i, c := range codes {
		wg.Go(func() {
			sem <- struct{}{}
			t0 := time.Now()
			id, err := startRunAs(srv.base, c.exercise, c.code, "submit")
			<-sem
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			msgs, err := readRun(srv.base, id, "result", 15*time.Minute)
			if err != nil {
				return
			}
			res := msgs[len(msgs)-1]
			passed := strings.Contains(string(res.Raw), `"verdict":"passed"`)
			times[i] = timing{t0, res.At, passed == c.pass}
		})
	}
	// A practice Run (of the first exercise's reference) a second into
	// the burst: does it wait behind it?
	time.Sleep(time.Second)
	var practice time.Duration
	t0 := time.Now()
	if id, err := startRunAs(srv.base, codes[0].exercise, codes[0].code, "run"); err == nil {
		if msgs, err := readRun(srv.base, id, "events", 5*time.Minute); err == nil {
			practice = msgs[len(msgs)-1].At.Sub(t0)
		}
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	r := &burstResult{setup: s, n: n, practice: practice}
	var lat []time.Duration
	var last time.Time
	for _, t := range times {
		if t.verdict.IsZero() {
			r.unfinished++
			continue
		}
		if !t.ok {
			r.wrong++
		}
		lat = append(lat, t.verdict.Sub(t.submitted))
		if t.verdict.After(last) {
			last = t.verdict
		}
	}
	if len(lat) == 0 {
		return nil, errors.New("no submission got a verdict")
	}
	slices.Sort(lat)
	r.wall = last.Sub(start)
	r.p50, r.p95, r.max = lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1]
	fmt.Fprintf(progress, "%s: %d verdicts in %v\n", s.name, len(lat), r.wall.Round(time.Millisecond))
	return r, nil
}

// benchGrading measures bursts of n mixed submissions on each setup, in
// one run, and prints them with their ratios to the first setup (one
// lab serve on SQLite grading one submission at a time, the default).
func benchGrading(ctx context.Context, m *Main, n int, db string) error {
	setups := []burstSetup{
		{name: "sqlite, serve, 1 submission worker (baseline)", submit: 1},
		{name: "sqlite, serve, 2 submission workers", submit: 2},
	}
	if db != "" {
		setups = append(setups,
			burstSetup{name: "postgres, serve + 1 lab worker", db: db, workers: 1},
			burstSetup{name: "postgres, serve + 2 lab workers", db: db, workers: 2})
	}
	dir, err := os.MkdirTemp("", "lab-bench-grading-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var results []*burstResult
	for _, s := range setups {
		r, err := runBurst(ctx, dir, s, n, m.Stderr)
		if err != nil {
			return fmt.Errorf("bench grading: %s: %w", s.name, err)
		}
		results = append(results, r)
	}
	base := results[0]
	rate := func(r *burstResult) float64 { return float64(r.n-r.unfinished) / r.wall.Minutes() }
	fmt.Fprintf(m.Stdout, "a burst of %d mixed submissions from %d students; submit to verdict\n\n", n, n)
	fmt.Fprintf(m.Stdout, "%-48s %9s %8s %8s %8s %10s %6s %6s %9s %9s\n",
		"setup", "per min", "p50", "p95", "max", "practice", "wrong", "lost", "rate÷base", "p50÷base")
	for _, r := range results {
		fmt.Fprintf(m.Stdout, "%-48s %9.1f %8s %8s %8s %10s %6d %6d %9.2f %9.2f\n", r.setup.name, rate(r),
			r.p50.Round(10*time.Millisecond), r.p95.Round(10*time.Millisecond), r.max.Round(10*time.Millisecond),
			r.practice.Round(time.Millisecond), r.wrong, r.unfinished, rate(r)/rate(base), float64(r.p50)/float64(base.p50))
	}
	if db == "" {
		fmt.Fprintln(m.Stdout, "\nPostgreSQL setups: lab bench grading --db postgres://... (a throwaway database)")
	}
	return nil
}
