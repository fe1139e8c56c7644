package sandbox

// Isolation between boxes, and from the host: what one box holds must not
// be taken from another, and what the box sees of the host must say
// nothing about it.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The kernel charges io_uring's locked memory (rings and registered
// buffers) to the user, against the RLIMIT_MEMLOCK of the task: boxes
// that share a host uid share one budget. Box A takes all of it and
// holds it while box B, at the same time, sets up a ring and runs a NOP.
func TestUringBudgetPerBox(t *testing.T) {
	const addr = "127.0.0.1:7002" // in box A's own network namespace
	before := snapshot(t)
	holding := make(chan struct{})
	release := make(chan struct{})
	holder := boxSpec(t, "hostile/uringhog", tight(), "hold", addr)
	holder.Limits.Wall = 60 * time.Second
	holder.Limits.CPU = 30 * time.Second
	holder.Peers = func(ctx context.Context, ns *NetNS) error {
		ln, err := ns.Listen("tcp", addr)
		if err != nil {
			return err
		}
		ns.Ready()
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "holding\n" {
			return fmt.Errorf("box A said %q, %v; want holding", line, err)
		}
		close(holding)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	done := make(chan *Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		res, err := Run(ctx, holder)
		if err != nil {
			t.Errorf("Run(holder) error: %v", err)
		}
		done <- res
	}()
	// On every path, box A is told to let go and is waited for.
	released := false
	letGo := func() *Result {
		if !released {
			released = true
			close(release)
		}
		return <-done
	}
	t.Cleanup(func() {
		if !released {
			letGo()
		}
	})
	select {
	case <-holding:
	case res := <-done:
		released = true
		if res == nil {
			t.FailNow() // Run's error is reported
		}
		t.Fatalf("box A ended before it held the budget: %s %q\nstdout:\n%s\nstderr:\n%s", res.Verdict, res.Reason, res.Stdout, res.Stderr)
	case <-time.After(60 * time.Second):
		t.Fatal("box A did not take the budget within 60s")
	}

	// Not through run: box A is still there, which run would count
	// as left behind. The host is checked once both boxes are gone.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	probe, err := Run(ctx, boxSpec(t, "hostile/uringhog", tight(), "probe"))
	if err != nil {
		t.Fatalf("Run(probe) error: %v", err)
	}
	t.Logf("box B: %s %q\n%s", probe.Verdict, probe.Reason, probe.Stdout)
	wantVerdict(t, probe, VerdictOK)
	held := letGo()
	before.verify(t)
	if held == nil {
		t.Fatal("box A's run failed")
	}
	t.Logf("box A: %s %q\n%s", held.Verdict, held.Reason, held.Stdout)
	got := lines(held.Stdout)
	if firstOf(got["last ring"]) != "ENOMEM" {
		t.Fatalf("box A did not hold the budget: last ring = %q", got["last ring"])
	}
	if firstOf(got["released"]) != "ok" {
		t.Errorf("box A was not holding until released: %s %q", held.Verdict, held.Reason)
	}
	wantLines(t, lines(probe.Stdout), map[string]string{"setup": "ok", "nop": "ok"})
}

// factsSpec runs hostfacts from a directory of the host bound at /box,
// as the grader binds a program's directory, and returns that directory.
func factsSpec(t *testing.T) (Spec, string) {
	t.Helper()
	dir, err := os.MkdirTemp(binDir, "secret-host-dir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(program(t, "hostile/hostfacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prog"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return Spec{
		Path:   "/box/prog",
		Args:   []string{"prog"},
		Binds:  []Bind{{Host: dir, Inside: "/box"}},
		Limits: tight(),
	}, dir
}

// wantNoHostFacts checks what hostfacts printed: no host path in the
// mounts, every cgroup at the root of the box's cgroup namespace, and
// the box's uptime its own.
func wantNoHostFacts(t *testing.T, res *Result, hostDir string) {
	t.Helper()
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	wantLines(t, got, map[string]string{"read mountinfo": "ok", "read cgroup": "ok"})
	if len(got["mount"]) == 0 || len(got["cgroup"]) == 0 {
		t.Fatalf("no mounts or cgroups read:\n%s", res.Stdout)
	}
	for _, l := range got["mount"] {
		if strings.Contains(l, hostDir) || strings.Contains(l, filepath.Base(hostDir)) || strings.Contains(l, binDir) {
			t.Errorf("mountinfo shows the host path %s: %q", hostDir, l)
		}
	}
	for _, l := range got["cgroup"] {
		if _, p, _ := strings.Cut(l[strings.Index(l, ":")+1:], ":"); p != "/" {
			t.Errorf("/proc/self/cgroup line %q: want the root of the box's cgroup namespace, /", l)
		}
	}
	host := hostUptime(t)
	for _, k := range []string{"sysinfo uptime", "boottime", "proc uptime"} {
		v := firstOf(got[k])
		if k == "proc uptime" && v == "ENOENT" {
			continue // subset=pid proc has no /proc/uptime
		}
		up, err := strconv.ParseFloat(v, 64)
		if err != nil || up >= 60 || up >= host {
			t.Errorf("%s in the box = %q, want the box's own (< 60 s; the host's is %.0f s)", k, v, host)
		}
	}
	t.Logf("host uptime %.0f s; box: sysinfo %s s, boot clock %s s, /proc/uptime %s, monotonic %s s",
		host, firstOf(got["sysinfo uptime"]), firstOf(got["boottime"]), firstOf(got["proc uptime"]), firstOf(got["monotonic"]))
}

func hostUptime(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	up, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestHostFacts(t *testing.T) {
	spec, dir := factsSpec(t)
	wantNoHostFacts(t, run(t, spec), dir)
}
