package builder

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynclab/asynclab"
	"github.com/asynclab/asynclab/engine/sandbox"
)

// templateVersion changes whenever the way templates are made changes, so
// a data directory never keeps a template made the old way.
const templateVersion = 3

// Inside the build sandbox the workspace, the module files and the cache
// always live at the same paths, so cache keys computed while warming up
// match those of every later build.
const (
	boxGoRoot = "/go"
	boxWork   = "/ws"
	boxCache  = "/cache"
	boxOut    = "/ws/out/prog"
	boxLab    = "/lab"    // toolrun and the import config, read-only
	handlerIn = "handler" // the student's package directory in the workspace
	goLang    = "go1.26"  // the workspace module's language version
)

// toolrunSource is the program that compiles and links a submission in
// the build box; see toolrun/main.go.
//
//go:embed toolrun/main.go
var toolrunSource []byte

// Config configures a [Builder].
type Config struct {
	Dir    string         // where templates, caches and workspaces live
	GoRoot string         // the toolchain; default: `go env GOROOT`
	Limits sandbox.Limits // for one build; defaults fit a one-file handler
	Logger *slog.Logger

	// Vendor lists more packages of the lab every build may link: the
	// exercises' harnesses. They are vendored with the engine.
	Vendor []string

	// Parallel is how many builds run at once; the rest wait their turn.
	// Default: the number of CPUs, which the compiler keeps busy.
	Parallel int

	// Run runs one sandboxed process; sandbox.Run in production. Tests of
	// the policy may substitute nothing else: the build is never run
	// unconfined.
	Run func(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error)
}

// BuildLimits are the default limits of one build: the compiler needs far
// more memory and processes than a handler, and must still be bounded.
func BuildLimits() sandbox.Limits {
	l := sandbox.DefaultLimits()
	l.Wall, l.CPU = 60*time.Second, 60*time.Second
	l.Memory = 1 << 30
	l.Pids = 256
	l.Output = 256 << 10
	l.FileSize = 128 << 20
	l.Tmpfs = 256 << 20
	return l
}

// Builder builds submissions. It is safe for concurrent use.
type Builder struct {
	cfg  Config
	log  *slog.Logger
	once sync.Once
	err  error

	slots    chan struct{} // builds running now, at most Config.Parallel
	bins     *binCache     // binaries of recent builds, by what they were built from
	template string        // the prepared workspace: go.mod, go.sum, vendor/
	cache    string        // the warm GOCACHE, read-only to every build
	lab      string        // toolrun and its import config
}

// New returns a builder. The template and warm cache are made on first use
// or by [Builder.Prepare].
func New(cfg Config) (*Builder, error) {
	if cfg.Dir == "" {
		return nil, errors.New("builder: Config.Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	cfg.Dir = dir
	if cfg.Run == nil {
		cfg.Run = sandbox.Run
	}
	if cfg.Limits == (sandbox.Limits{}) {
		cfg.Limits = BuildLimits()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.GoRoot == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return nil, fmt.Errorf("builder: find the Go toolchain: %w", err)
		}
		cfg.GoRoot = strings.TrimSpace(string(out))
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = runtime.NumCPU()
	}
	return &Builder{cfg: cfg, log: cfg.Logger.With("subsystem", "builder"), slots: make(chan struct{}, cfg.Parallel)}, nil
}

// CacheDir returns the warm build cache every build starts from. It is
// read-only to builds; tests check that no build changes it.
func (b *Builder) CacheDir() string { return b.cache }

// Request is one build: the student's files and the harness main package
// that calls them.
type Request struct {
	Files   []File
	Harness []byte // main.go of the exercise's harness; imports "submission/handler"
	Policy  Policy
}

// Result is a finished build.
type Result struct {
	Binary   string        // host path of the built program; removed by Cleanup
	Problems []Problem     // compile errors in the student's files; empty on success
	Log      string        // the compiler's output, with sandbox paths
	Wall     time.Duration // the build's own, not counting its wait for a turn
	// Cached says the binary is one an earlier build of the same files
	// made: nothing was compiled or linked.
	Cached bool
	work   *workDir // nil once removed
}

// OK reports whether the build produced a binary.
func (r *Result) OK() bool { return r.Binary != "" }

// Cleanup removes the build's workspace and binary. A build that made no
// binary has removed them already. Cleanup may be called more than once.
func (r *Result) Cleanup() error { return r.work.remove() }

// Build checks req's files, writes a workspace around them and compiles it
// offline in a build sandbox. A rejected or non-compiling submission is not
// an error: its Result lists the problems. An error means the build could
// not be attempted. Only a Result with a binary keeps a directory, until
// [Result.Cleanup]; every other way out of Build removes it, and one a
// killed process left is removed by the next [Sweep].
func (b *Builder) Build(ctx context.Context, req Request) (*Result, error) {
	if err := Check(req.Files, req.Policy); err != nil {
		var rej *RejectError
		if errors.As(err, &rej) {
			return &Result{Problems: rej.Problems}, nil
		}
		return nil, err
	}
	if err := b.Prepare(ctx); err != nil {
		return nil, err
	}
	key := binKey(b.template, req)
	built, err := b.bins.claim(ctx, key)
	if err != nil {
		return nil, err
	}
	defer built()
	work, err := newWorkDir(filepath.Join(b.cfg.Dir, "work"))
	if err != nil {
		return nil, fmt.Errorf("build: workspace: %w", err)
	}
	res := &Result{work: work}
	ws := filepath.Join(work.path, "ws")
	if bin := filepath.Join(ws, "out", "prog"); os.MkdirAll(filepath.Dir(bin), 0o755) == nil && b.bins.get(key, bin) {
		res.Binary, res.Cached = bin, true
		return res, nil
	}
	if err := b.writeWorkspace(ws, req); err != nil {
		res.Cleanup()
		return nil, err
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		res.Cleanup()
		return nil, fmt.Errorf("build: waiting for a turn: %w", ctx.Err())
	}
	start := time.Now()
	out, err := b.toolBuild(ctx, ws, req.Files, b.cfg.Limits)
	res.Wall = time.Since(start)
	<-b.slots
	if err != nil {
		res.Cleanup()
		return nil, err
	}
	res.Log = out.log
	if !out.ok {
		res.Problems = compileProblems(out.log)
		if len(res.Problems) == 0 {
			res.Problems = []Problem{{Msg: out.reason}}
		}
		// Nothing in the directory is needed any more: the log is kept.
		if err := res.Cleanup(); err != nil {
			b.log.Warn("removing a failed build", "err", err)
		}
		return res, nil
	}
	res.Binary = filepath.Join(ws, "out", "prog")
	b.bins.put(key, res.Binary)
	return res, nil
}

// Prepare makes the template workspace (module files and the vendored
// engine) and warms the build cache by compiling the engine once, in the
// sandbox, exactly as a submission's build will. It runs once.
func (b *Builder) Prepare(ctx context.Context) error {
	b.once.Do(func() { b.err = b.prepare(ctx) })
	return b.err
}

// Warm reports whether the template and warm cache for this engine are
// already on disk, so that [Builder.Prepare] will be quick.
func (b *Builder) Warm() bool {
	root, err := b.templateRoot()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(root, "ready"))
	return err == nil
}

// templateRoot is where the template for the embedded engine lives.
func (b *Builder) templateRoot() (string, error) {
	sum, err := sourceHash(b.cfg.Vendor)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.cfg.Dir, "template-"+sum[:16]), nil
}

func (b *Builder) prepare(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(b.cfg.Dir, "work"), 0o711); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if sw, err := Sweep(ctx, b.cfg.Dir); err != nil {
		b.log.Warn("sweeping build directories left by killed processes", "err", err, "removed", sw.Dirs)
	} else if sw.Dirs > 0 {
		b.log.Info("swept build directories left by killed processes", "dirs", sw.Dirs, "bytes", sw.Bytes)
	}
	root, err := b.templateRoot()
	if err != nil {
		return err
	}
	b.template, b.cache, b.lab = filepath.Join(root, "ws"), filepath.Join(root, "cache"), filepath.Join(root, "lab")
	if b.bins, err = newBinCache(filepath.Join(b.cfg.Dir, "bins"), binCacheEntries); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "ready")); err == nil {
		return nil
	}
	os.RemoveAll(root)
	start := time.Now()
	if err := b.vendor(ctx, root); err != nil {
		return err
	}
	// Warm the cache with a trivial handler, in the sandbox, at the paths
	// every build uses.
	warm := filepath.Join(root, "warm")
	req := Request{
		Files:   []File{{Name: "handler.go", Data: warmHandler()}},
		Harness: []byte(strings.Replace(templateMain(b.cfg.Vendor), "import (\n", "import (\n\t_ \"submission/handler\"\n", 1)),
	}
	if err := b.writeWorkspace(warm, req); err != nil {
		return err
	}
	if err := os.MkdirAll(b.cache, 0o777); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	os.Chmod(b.cache, 0o777) // the box's user must create entries here while warming
	if err := b.warmCache(ctx, warm); err != nil {
		return err
	}
	if err := b.buildToolrun(ctx); err != nil {
		return err
	}
	// Every later build reads these entries: make them read-only and
	// root-owned so no build can change what another reads.
	if err := freeze(b.cache); err != nil {
		return fmt.Errorf("builder: freeze warm cache: %w", err)
	}
	// The template is ready once a build through it works.
	out, err := b.toolBuild(ctx, warm, req.Files, b.cfg.Limits)
	if err != nil {
		return err
	}
	if !out.ok {
		return fmt.Errorf("builder: a build of the warm handler failed: %s\n%s", out.reason, out.log)
	}
	os.RemoveAll(warm)
	b.log.Info("build template ready", "dir", root, "took", time.Since(start).Round(time.Millisecond))
	return os.WriteFile(filepath.Join(root, "ready"), nil, 0o644)
}

// vendor writes the template: the embedded engine source as a replaced
// module, then `go mod vendor` offline, on the host. No student input is
// involved, and the engine's only dependency comes from the local module
// cache.
func (b *Builder) vendor(ctx context.Context, root string) error {
	tmpl := filepath.Join(root, "ws")
	src := filepath.Join(root, "src")
	if err := os.MkdirAll(filepath.Join(tmpl, handlerIn), 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if err := os.CopyFS(src, asynclab.Source); err != nil {
		return fmt.Errorf("builder: write engine source: %w", err)
	}
	labSum, err := asynclab.Source.ReadFile("go.sum")
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	files := map[string]string{
		"go.mod": "module submission\n\ngo 1.26\n\nrequire github.com/asynclab/asynclab v0.0.0\n\nrequire golang.org/x/sys " +
			sysVersion(labSum) + " // indirect\n\nreplace github.com/asynclab/asynclab => " + src + "\n",
		"go.sum":                  string(labSum),
		"main.go":                 templateMain(b.cfg.Vendor),
		handlerIn + "/handler.go": "package handler\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(tmpl, name), []byte(data), 0o644); err != nil {
			return fmt.Errorf("builder: %w", err)
		}
	}
	for _, args := range [][]string{{"mod", "tidy"}, {"mod", "vendor"}} {
		cmd := exec.CommandContext(ctx, filepath.Join(b.cfg.GoRoot, "bin", "go"), args...)
		cmd.Dir = tmpl
		cmd.Env = append(hostGoEnv(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOROOT="+b.cfg.GoRoot)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("builder: go %s (is golang.org/x/sys in the module cache? run `go mod download`): %v\n%s",
				strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// warmHandler imports everything a handler may import, so the warm cache
// holds all of it compiled and a build compiles only the student's code.
func warmHandler() []byte {
	var b strings.Builder
	b.WriteString("package handler\n\nimport (\n")
	for _, p := range append(slices.Clone(SafeStd), EngineImports...) {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n")
	return []byte(b.String())
}

// templateMain imports every package a build may use, so `go mod vendor`
// copies them all.
func templateMain(extra []string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, p := range append([]string{"github.com/asynclab/asynclab/engine", "github.com/asynclab/asynclab/engine/sys"}, extra...) {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n\nfunc main() {}\n")
	return b.String()
}

// hostGoEnv is the environment for the trusted `go mod vendor`: the host's
// module cache, and nothing that could redirect the tool.
func hostGoEnv() []string {
	env := []string{"PATH=/usr/bin:/bin", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off", "GOENV=off",
		"GOSUMDB=off", "GOTELEMETRY=off", "HOME=" + os.TempDir()}
	for _, k := range []string{"GOMODCACHE", "GOPATH"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	if os.Getenv("GOMODCACHE") == "" && os.Getenv("GOPATH") == "" {
		if home, err := os.UserHomeDir(); err == nil {
			env = append(env, "GOPATH="+filepath.Join(home, "go"))
		}
	}
	return env
}

func sysVersion(sum []byte) string {
	for _, line := range strings.Split(string(sum), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "golang.org/x/sys" && !strings.HasSuffix(f[1], "/go.mod") {
			return f[1]
		}
	}
	return "v0.0.0"
}

// writeWorkspace lays out a build: the template's module files, the
// harness, and the student's files under handler/. The server writes every
// module file itself; the student supplies only .go files of one package.
func (b *Builder) writeWorkspace(ws string, req Request) error {
	if err := os.MkdirAll(filepath.Join(ws, handlerIn), 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(ws, "out"), 0o777); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	// The mount point of the vendored modules, which the sandbox binds
	// read-only from the template; the box cannot create it itself.
	if err := os.MkdirAll(filepath.Join(ws, "vendor"), 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	os.Chmod(filepath.Join(ws, "out"), 0o777) // the box writes the binary here
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(b.template, name))
		if err != nil {
			return fmt.Errorf("build: template: %w", err)
		}
		if err := os.WriteFile(filepath.Join(ws, name), data, 0o444); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "main.go"), req.Harness, 0o444); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	for _, f := range req.Files {
		// Check has vetted the names: plain lowercase .go names, no paths.
		if err := os.WriteFile(filepath.Join(ws, handlerIn, f.Name), f.Data, 0o444); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	return nil
}

type buildOutput struct {
	ok     bool
	reason string
	log    string // stdout and stderr
	stdout string
}

// warmLimits are the limits of the build that warms the cache: the
// lab's own engine, compiled once per start from nothing, which takes
// about 15 s of CPU on an idle machine and may take minutes on one busy
// grading. Only its time is let grow; a student's build keeps lim.
func warmLimits(lim sandbox.Limits) sandbox.Limits {
	lim.Wall = max(lim.Wall, 10*time.Minute)
	lim.CPU = max(lim.CPU, 10*time.Minute)
	return lim
}

// goCommand runs the go command with args on the workspace ws in the
// build sandbox, with cache as its writable GOCACHE, offline and with cgo
// off, within lim. Prepare runs it to warm the cache.
func (b *Builder) goCommand(ctx context.Context, ws, cache string, lim sandbox.Limits, args ...string) (*buildOutput, error) {
	return b.boxRun(ctx, sandbox.Spec{
		Path: boxGoRoot + "/bin/go",
		Args: append([]string{"go"}, args...),
		Env:  buildEnv(),
		Dir:  boxWork,
		Binds: []sandbox.Bind{
			{Host: b.cfg.GoRoot, Inside: boxGoRoot},
			{Host: ws, Inside: boxWork, Writable: true},
			{Host: filepath.Join(b.template, "vendor"), Inside: boxWork + "/vendor"},
			{Host: cache, Inside: boxCache, Writable: true},
		},
		Limits: lim,
	})
}

// toolBuild compiles the student's files in ws and links the program, in
// the build sandbox, with toolrun: the compiler and linker against the
// warm cache's packages, which the box may only read.
func (b *Builder) toolBuild(ctx context.Context, ws string, files []File, lim sandbox.Limits) (*buildOutput, error) {
	args := []string{"toolrun", "-tools", boxGoRoot + "/pkg/tool/" + runtime.GOOS + "_" + runtime.GOARCH,
		"-importcfg", boxLab + "/importcfg", "-lang", goLang, "-o", boxOut}
	for _, f := range files {
		args = append(args, handlerIn+"/"+f.Name)
	}
	return b.boxRun(ctx, sandbox.Spec{
		Path: boxLab + "/toolrun",
		Args: args,
		Env:  buildEnv(),
		Dir:  boxWork,
		Binds: []sandbox.Bind{
			{Host: b.cfg.GoRoot, Inside: boxGoRoot},
			{Host: ws, Inside: boxWork, Writable: true},
			{Host: b.cache, Inside: boxCache},
			{Host: b.lab, Inside: boxLab},
		},
		Limits: lim,
	})
}

// buildEnv is the build box's environment: offline, cgo off, and the
// cache and toolchain at the paths every build uses.
func buildEnv() []string {
	return []string{
		"PATH=" + boxGoRoot + "/bin", "GOROOT=" + boxGoRoot, "GOCACHE=" + boxCache,
		"GOPATH=/tmp/gopath", "GOMODCACHE=/tmp/gopath/pkg/mod", "HOME=/tmp", "TMPDIR=/tmp",
		"CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off", "GOENV=off", "GOFLAGS=-mod=vendor",
		"GOPROXY=off", "GOSUMDB=off", "GOTELEMETRY=off", "GOMAXPROCS=2",
	}
}

// boxRun runs one build step in the sandbox and says how it ended.
func (b *Builder) boxRun(ctx context.Context, spec sandbox.Spec) (*buildOutput, error) {
	res, err := b.cfg.Run(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("build sandbox: %w", err)
	}
	out := &buildOutput{stdout: string(res.Stdout), log: string(res.Stdout) + string(res.Stderr)}
	switch res.Verdict {
	case sandbox.VerdictOK:
		out.ok = true
	case sandbox.VerdictRuntimeError:
		out.reason = "the build failed"
	case sandbox.VerdictTimeLimit:
		out.reason = "the build took too long (a compile-time bomb?)"
	case sandbox.VerdictMemoryLimit:
		out.reason = "the build used too much memory (a compile-time bomb?)"
	case sandbox.VerdictOutputLimit:
		out.reason = "the compiler wrote too much output"
	default:
		out.reason = "the build was stopped: " + res.Reason
	}
	return out, nil
}

// warmCache compiles every package a build may link into the cache, in
// the build sandbox, by listing the packages of the workspace warm with
// their compiled files (`go list -export`), and writes the import config
// that names each file at the box's path.
func (b *Builder) warmCache(ctx context.Context, warm string) error {
	if err := os.MkdirAll(b.lab, 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	out, err := b.goCommand(ctx, warm, b.cache, warmLimits(b.cfg.Limits), "list", "-trimpath", "-deps", "-export",
		"-f", "{{if .Export}}packagefile {{.ImportPath}}={{.Export}}{{end}}", ".")
	if err != nil {
		return err
	}
	if !out.ok {
		return fmt.Errorf("builder: warming the cache failed: %s\n%s", out.reason, out.log)
	}
	var cfg strings.Builder
	for _, line := range strings.Split(out.stdout, "\n") {
		pkg, _, _ := strings.Cut(strings.TrimPrefix(line, "packagefile "), "=")
		if line == "" || pkg == "submission" || pkg == "submission/handler" {
			continue // the warm build's own; each build compiles its own
		}
		cfg.WriteString(line + "\n")
	}
	if !strings.Contains(cfg.String(), "packagefile runtime=") {
		return fmt.Errorf("builder: the compiled packages do not include the runtime:\n%s", out.log)
	}
	if err := os.WriteFile(filepath.Join(b.lab, "importcfg"), []byte(cfg.String()), 0o444); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	return nil
}

// buildToolrun compiles toolrun on the host: the lab's own code, with no
// student input.
func (b *Builder) buildToolrun(ctx context.Context) error {
	src := filepath.Join(b.lab, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	defer os.RemoveAll(src)
	for name, data := range map[string][]byte{"go.mod": []byte("module toolrun\n\ngo 1.26\n"), "main.go": toolrunSource} {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			return fmt.Errorf("builder: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(b.cfg.GoRoot, "bin", "go"), "build", "-trimpath", "-o", filepath.Join(b.lab, "toolrun"), ".")
	cmd.Dir = src
	cmd.Env = append(hostGoEnv(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOROOT="+b.cfg.GoRoot)
	if log, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("builder: build toolrun: %v\n%s", err, log)
	}
	return nil
}

// compileLine matches the compiler's "./handler/x.go:12:5: msg" lines.
var compileLine = regexp.MustCompile(`^(?:\./)?` + handlerIn + `/([a-z0-9_]+\.go):(\d+)(?::(\d+))?: (.*)$`)

// compileProblems maps the compiler's output to the student's own files and
// lines. Lines about other files are the harness's and stay out of the
// student's view (they are in Result.Log for the instructor).
func compileProblems(log string) []Problem {
	var probs []Problem
	for _, line := range strings.Split(log, "\n") {
		m := compileLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		l, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		probs = append(probs, Problem{File: m[1], Line: l, Col: c, Msg: m[4]})
	}
	return probs
}

// sourceHash identifies the embedded engine, so a template built for one
// engine is never used with another.
func sourceHash(vendor []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%q\x00%s\x00", templateVersion, vendor, warmHandler())
	err := fs.WalkDir(asynclab.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := asynclab.Source.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("builder: hash engine source: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// freeze makes every file under dir read-only and owned by the server.
func freeze(dir string) error {
	uid, gid := os.Getuid(), os.Getgid()
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o444)
	})
}
