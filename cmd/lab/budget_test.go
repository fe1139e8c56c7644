package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
)

// floodHandler answers connect's scenarios after marking its trace with a
// large mark for as long as the sandbox lets it: the trace flood that
// once took a server to 2 GB.
const floodHandler = `package handler

import (
	"strings"
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	big := strings.Repeat("flood ", 700)
	for i := 0; i < 2000000; i++ {
		l.Mark(big)
	}
	done(-1, sys.ETIMEDOUT)
}
`

// Four trace-flooding submissions at once leave the server's memory
// within its budget, and its data directory within the traces' caps.
func TestTraceFloodBudget(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	data := t.TempDir()
	// The lab as it is shipped, not this test binary: built with -race it
	// would use several times the memory it measures.
	bin := filepath.Join(t.TempDir(), "lab")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := launchServer(t, exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data,
		"--submit-workers", "2", "--practice-workers", "2"))
	s.waitLog(t, "grader ready")
	before := dirSize(t, data)
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = startRun(t, s.base, floodHandler, "run")
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := readRun(s.base, id, "end", 5*time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	peak := peakRSS(t, s.cmd.Process.Pid)
	grew := dirSize(t, data) - before
	t.Logf("four trace floods: server peak RSS %d MiB, data directory grew %d MiB", peak>>20, grew>>20)
	// The budget (docs/benchmarks.md): the traces are spooled to files,
	// a live stream keeps at most 24 MiB of events, and a run's decoded
	// events are bounded by its 8 MiB cap on each of its 8 tracks; four
	// run at once.
	if peak > serverBudget {
		t.Errorf("the server's peak RSS was %d MiB, over its %d MiB budget", peak>>20, serverBudget>>20)
	}
	// Each run keeps at most 8 tracks × 8 MiB of trace, plus its result.
	if limit := int64(4 * (8*8<<20 + 4<<20)); grew > limit {
		t.Errorf("the data directory grew %d MiB for 4 runs, more than 4 × (8 tracks × 8 MiB + 4 MiB)", grew>>20)
	}
}

// peakRSS is the high-water mark of process pid's resident memory.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(st)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// dirSize adds up the sizes of the regular files under dir, the build
// cache aside.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if fi.IsDir() && fi.Name() == "build" {
			return filepath.SkipDir
		}
		if fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// serverBudget is the most resident memory lab serve may reach while
// grading four trace floods at once.
const serverBudget = 768 << 20
