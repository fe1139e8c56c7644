package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/asynclab/asynclab/engine/uring"
	"github.com/asynclab/asynclab/internal/bench/enginebench"
)

// findNOPSweep returns the path of c/nop_sweep.c: from the bench
// directory, from the repository root, or next to this source file.
func findNOPSweep() (string, error) {
	cands := []string{filepath.Join("c", "nop_sweep.c"), filepath.Join("bench", "c", "nop_sweep.c")}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "..", "c", "nop_sweep.c"))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("cannot find c/nop_sweep.c (tried %s); run from bench/ or pass -csrc", strings.Join(cands, ", "))
}

// buildNOPSweep compiles src (c/nop_sweep.c) against liburing into dir
// and returns the binary's path.
func buildNOPSweep(ctx context.Context, cc, src, dir string) (string, error) {
	bin := filepath.Join(dir, "nop_sweep")
	out, err := exec.CommandContext(ctx, cc, "-O2", "-o", bin, src, "-luring").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s -O2 -o %s nop_sweep.c -luring: %w\n%s(is liburing-dev installed? apt-get install -y liburing-dev)",
			cc, bin, err, out)
	}
	return bin, nil
}

// ringSetupFlags returns the setup flags our ring gets by default on this
// kernel, so that the C ring is set up the same way.
func ringSetupFlags() (uint32, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := uring.Setup(uring.Options{Entries: 256})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.SetupFlags() &^ uring.SetupCQSize, nil
}

// liburingSweep returns the sweep that runs bin. enginebench calls it on
// a pinned thread, so the process starts pinned too.
func liburingSweep(bin string, flags uint32, entries int) enginebench.Sweep {
	return enginebench.Sweep{Name: "liburing", Run: func(ctx context.Context, batches []int, ops int) (map[int]float64, error) {
		args := []string{fmt.Sprintf("%#x", flags), strconv.Itoa(entries), strconv.Itoa(ops)}
		for _, b := range batches {
			args = append(args, strconv.Itoa(b))
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
		}
		return parseSweep(out)
	}}
}

// parseSweep reads nop_sweep's "batch=B ns_per_op=X enters_per_op=Y" lines.
func parseSweep(out []byte) (map[int]float64, error) {
	res := make(map[int]float64)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var b int
		var ns, enters float64
		if _, err := fmt.Sscanf(sc.Text(), "batch=%d ns_per_op=%g enters_per_op=%g", &b, &ns, &enters); err != nil {
			return nil, fmt.Errorf("nop_sweep printed %q: %w", sc.Text(), err)
		}
		res[b] = ns
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("nop_sweep printed nothing")
	}
	return res, nil
}
