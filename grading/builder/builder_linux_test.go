package builder_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/grading/builder"
)

func TestMain(m *testing.M) {
	if sandbox.IsInit() {
		sandbox.InitMain()
	}
	os.Exit(m.Run())
}

var (
	sharedOnce sync.Once
	shared     *builder.Builder
	sharedErr  error

	// The shared builder's sandboxed runs now, and the most at once since
	// the last reset.
	running, mostRunning atomic.Int32
)

// countingRun is sandbox.Run, counting the runs at once.
func countingRun(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	n := running.Add(1)
	defer running.Add(-1)
	for m := mostRunning.Load(); n > m && !mostRunning.CompareAndSwap(m, n); m = mostRunning.Load() {
	}
	return sandbox.Run(ctx, spec)
}

// newBuilder returns one builder for the whole test binary, so the
// template and the warm cache are made once.
func newBuilder(t testing.TB) *builder.Builder {
	t.Helper()
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "builder-test-")
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = builder.New(builder.Config{Dir: dir, Run: countingRun, Parallel: 2})
		if sharedErr == nil {
			sharedErr = shared.Prepare(context.Background())
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

const harness = `package main

import (
	"context"
	"fmt"

	"github.com/asynclab/asynclab/engine"
	"submission/handler"
)

func main() {
	l := engine.New(engine.Config{})
	err := l.Run(context.Background(), "main", func() { handler.Handle(l) })
	fmt.Println("done", err)
}
`

func TestBuild(t *testing.T) {
	b := newBuilder(t)
	tests := []struct {
		name     string
		src      string
		wantOK   bool
		wantLine int
		wantMsg  string
	}{
		{"ok", "package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) { l.Queue(\"x\", l.Stop) }\n", true, 0, ""},
		{"type error", "package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) {\n\tvar x int = \"s\"\n\t_ = x\n\tl.Stop()\n}\n", false, 6, "cannot use"},
		{"undefined", "package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) { l.Nope() }\n", false, 5, "Nope"},
		{"rejected import", "package handler\n\nimport \"os\"\n\nfunc Handle() { os.Exit(1) }\n", false, 3, `import "os"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := b.Build(context.Background(), builder.Request{
				Files:   []builder.File{{Name: "handler.go", Data: []byte(tt.src)}},
				Harness: []byte(harness),
				Policy:  builder.DefaultPolicy("handler"),
			})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			defer res.Cleanup()
			if res.OK() != tt.wantOK {
				t.Fatalf("Build OK = %v, want %v; problems %v\n%s", res.OK(), tt.wantOK, res.Problems, res.Log)
			}
			if tt.wantOK {
				out, err := exec.Command(res.Binary).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "done <nil>") {
					t.Errorf("built program: %v, output %q", err, out)
				}
				t.Logf("warm build took %v", res.Wall)
				return
			}
			p := res.Problems[0]
			if p.File != "handler.go" || p.Line != tt.wantLine || !strings.Contains(p.Msg, tt.wantMsg) {
				t.Errorf("first problem = %v, want handler.go:%d containing %q", p, tt.wantLine, tt.wantMsg)
			}
			if strings.Contains(p.String(), "/ws") || strings.Contains(p.String(), os.TempDir()) {
				t.Errorf("problem %q leaks a path", p)
			}
		})
	}
}

// TestHostileBuilds feeds the build what an attacker would: code that makes
// the compiler produce gigabytes, and code that tries to reach outside the
// submission. Each must end as a clear problem, never as a hang, a crash or
// a changed cache.
func TestHostileBuilds(t *testing.T) {
	b := newBuilder(t)
	before := cacheDigest(t, b)
	tests := []struct {
		name string
		src  string
		want string // substring of the first problem
	}{
		{"giant static array", "package handler\n\nvar Big = [1 << 31]int64{1<<31 - 1: 1}\n\nfunc Handle(any) {}\n", "compile-time bomb"},
		{"embed traversal", "package handler\n\nimport _ \"embed\"\n\n//go:embed ../../../etc/passwd\nvar s string\n", `import "embed"`},
		{"cgo", "package handler\n\n/*\n#include <stdlib.h>\n*/\nimport \"C\"\n", "cgo"},
		{"linkname escape", "package handler\n\nimport _ \"unsafe\"\n\n//go:linkname exit os.Exit\nfunc exit(int)\n", `import "unsafe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := b.Build(context.Background(), builder.Request{
				Files:   []builder.File{{Name: "handler.go", Data: []byte(tt.src)}},
				Harness: []byte("package main\n\nimport _ \"submission/handler\"\n\nfunc main() {}\n"),
				Policy:  builder.DefaultPolicy("handler"),
			})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			defer res.Cleanup()
			if res.OK() {
				t.Fatalf("a hostile build succeeded")
			}
			t.Logf("problems: %v", res.Problems)
			if len(res.Problems) == 0 || !strings.Contains(res.Problems[0].String(), tt.want) {
				t.Errorf("problems = %v, want one containing %q", res.Problems, tt.want)
			}
			for _, p := range res.Problems {
				if strings.Contains(p.String(), os.TempDir()) {
					t.Errorf("problem %q leaks a server path", p)
				}
			}
		})
	}
	if after := cacheDigest(t, b); after != before {
		t.Errorf("the shared warm cache changed during hostile builds")
	}
}

// cacheDigest summarises every file of the builder's warm cache: name,
// size, mode and content hash.
func cacheDigest(t *testing.T, b *builder.Builder) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(b.CacheDir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %v %x\n", p, info.Size(), info.Mode(), sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// BenchmarkBuild compares a warm build of a one-file handler through
// toolrun (the compiler and linker called directly, the cache read-only)
// with the baseline, `go build` on a linked copy of the warm cache, in
// one run, alternating the two.
//
//	go test -run '^$' -bench Build -benchtime 10x ./grading/builder/
func BenchmarkBuild(b *testing.B) {
	bld := newBuilder(b)
	ctx := context.Background()
	var direct, goBuild []time.Duration
	for i := range b.N {
		req := builder.Request{
			Files:   []builder.File{{Name: "handler.go", Data: fmt.Appendf(nil, "package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) { l.Queue(\"x%d\", l.Stop) }\n", i)}},
			Harness: []byte(harness),
			Policy:  builder.DefaultPolicy("handler"),
		}
		res, err := bld.Build(ctx, req)
		if err != nil || !res.OK() {
			b.Fatalf("Build: %v %v", err, res.Problems)
		}
		direct = append(direct, res.Wall)
		res.Cleanup()
		d, err := bld.GoBuild(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		goBuild = append(goBuild, d)
	}
	md, mg := median(direct), median(goBuild)
	b.ReportMetric(float64(md.Microseconds())/1000, "toolrun-ms")
	b.ReportMetric(float64(mg.Microseconds())/1000, "gobuild-ms")
	b.ReportMetric(float64(md)/float64(mg), "toolrun/gobuild")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// A built program's stack traces name the student's file as the module
// path does, never as a path in the build box or on the server.
func TestBuildTrimsPaths(t *testing.T) {
	b := newBuilder(t)
	// A goroutine's panic, which the loop cannot recover.
	src := "package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) {\n\tgo func() { panic(\"at line 6\") }()\n\tselect {}\n}\n"
	res, err := b.Build(context.Background(), builder.Request{
		Files:   []builder.File{{Name: "handler.go", Data: []byte(src)}},
		Harness: []byte(harness),
		Policy:  builder.DefaultPolicy("handler"),
	})
	if err != nil || !res.OK() {
		t.Fatalf("Build: %v %v\n%s", err, res.Problems, res.Log)
	}
	defer res.Cleanup()
	out, _ := exec.Command(res.Binary).CombinedOutput()
	if !strings.Contains(string(out), "submission/handler/handler.go:6") {
		t.Errorf("the panic's trace does not name submission/handler/handler.go:6:\n%s", out)
	}
	for _, leak := range []string{"/ws/", "/cache/", os.TempDir()} {
		if strings.Contains(string(out), leak) {
			t.Errorf("the panic's trace names %q:\n%s", leak, out)
		}
	}
}

// Builds past Config.Parallel wait their turn: a burst of submissions
// does not start a compiler each on two cores.
func TestBuildsTakeTurns(t *testing.T) {
	b := newBuilder(t)
	mostRunning.Store(0)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := range 5 {
		wg.Go(func() {
			// Sources no earlier build made, so that none comes from the
			// binary cache.
			src := fmt.Sprintf("package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) { l.Queue(\"turn %d %d\", l.Stop) }\n", i, time.Now().UnixNano())
			res, err := b.Build(context.Background(), builder.Request{
				Files:   []builder.File{{Name: "handler.go", Data: []byte(src)}},
				Harness: []byte(harness),
				Policy:  builder.DefaultPolicy("handler"),
			})
			if err == nil && !res.OK() {
				err = fmt.Errorf("build %d failed: %v", i, res.Problems)
			}
			if err == nil {
				res.Cleanup()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if m := mostRunning.Load(); m < 1 || m > 2 {
		t.Errorf("%d builds ran at once; want at most Config.Parallel = 2", m)
	}
}

// A handler built again is not compiled again: concurrent builds of the
// same files wait for one build and share its binary, each build's own
// link to it survives the others' cleanups, and a changed file or a
// compile error is never served from the cache.
func TestBuildCache(t *testing.T) {
	b := newBuilder(t)
	src := fmt.Sprintf("package handler\n\nimport \"github.com/asynclab/asynclab/engine\"\n\nfunc Handle(l *engine.Loop) { l.Queue(\"cached %d\", l.Stop) }\n", time.Now().UnixNano())
	build := func(src string) *builder.Result {
		t.Helper()
		res, err := b.Build(context.Background(), builder.Request{
			Files:   []builder.File{{Name: "handler.go", Data: []byte(src)}},
			Harness: []byte(harness),
			Policy:  builder.DefaultPolicy("handler"),
		})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		return res
	}
	runs := func(res *builder.Result) bool {
		out, err := exec.Command(res.Binary).CombinedOutput()
		return err == nil && strings.Contains(string(out), "done <nil>")
	}
	var wg sync.WaitGroup
	results := make([]*builder.Result, 3)
	for i := range results {
		wg.Go(func() { results[i] = build(src) })
	}
	wg.Wait()
	cached := 0
	for _, res := range results {
		if !res.OK() {
			t.Fatalf("build failed: %v\n%s", res.Problems, res.Log)
		}
		if res.Cached {
			cached++
		}
	}
	if cached != 2 {
		t.Errorf("%d of 3 builds of the same files came from the cache, want 2 (one compiles, the others wait for it)", cached)
	}
	results[0].Cleanup()
	results[1].Cleanup()
	if !runs(results[2]) {
		t.Error("a cached binary does not run once the other builds' directories are gone")
	}
	results[2].Cleanup()
	if again := build(src); !again.Cached || !runs(again) {
		t.Errorf("a later build of the same files: cached %v", again.Cached)
	} else {
		again.Cleanup()
	}

	changed := build(strings.Replace(src, "cached", "changed", 1))
	defer changed.Cleanup()
	if changed.Cached || !runs(changed) {
		t.Errorf("a changed handler came from the cache (%v) or does not run", changed.Cached)
	}
	broken := strings.Replace(src, "l.Stop", "l.Nope", 1)
	for range 2 {
		if res := build(broken); res.OK() || res.Cached || len(res.Problems) == 0 {
			t.Errorf("a handler that does not compile: ok %v, cached %v, problems %v", res.OK(), res.Cached, res.Problems)
		}
	}
}
