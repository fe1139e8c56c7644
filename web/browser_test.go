package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// The browser tests run pages in a real headless Chromium through chromedp.
// newBrowser starts one per test; whatever goes wrong in the page (a console
// error, an uncaught exception, a failed request, an HTTP error) fails the
// test at its end unless the test expected it with allowErrors.

// pageErrors collects what went wrong in one tab. The listener runs on
// chromedp's goroutine, so every field is guarded by mu.
type pageErrors struct {
	mu      sync.Mutex
	urls    map[network.RequestID]string
	errs    []string
	allowed []string
}

type pageErrorsKey struct{}

// newBrowser starts headless Chromium ($CHROMIUM, else /usr/bin/chromium)
// with a 1280x900 window and returns the context of its one tab. The
// browser stops when the test ends; the test then fails if the page
// reported errors it did not allow. Without Chromium the test is skipped,
// except in CI ($CI set), where it fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("no chromium (set $CHROMIUM to its path): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	pe := &pageErrors{urls: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(pe.listen))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		pe.report(t)
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return context.WithValue(ctx, pageErrorsKey{}, pe)
}

// allowErrors lets the page report errors containing substring without
// failing the test: for a test that provokes one on purpose.
func allowErrors(ctx context.Context, substring string) {
	pe, ok := ctx.Value(pageErrorsKey{}).(*pageErrors)
	if !ok {
		panic("allowErrors: the context does not come from newBrowser")
	}
	pe.mu.Lock()
	defer pe.mu.Unlock()
	pe.allowed = append(pe.allowed, substring)
}

// listen runs in chromedp's event loop: it must return fast and run no
// command.
func (pe *pageErrors) listen(ev any) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			pe.errs = append(pe.errs, "console."+string(ev.Type)+": "+consoleText(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		pe.errs = append(pe.errs, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
	case *network.EventRequestWillBeSent:
		pe.urls[ev.RequestID] = ev.Request.URL
	case *network.EventLoadingFailed:
		// Leaving a page cancels its requests in flight; that is no error.
		if ev.Canceled {
			return
		}
		pe.errs = append(pe.errs, fmt.Sprintf("request failed: %s: %s", pe.urls[ev.RequestID], ev.ErrorText))
	case *network.EventResponseReceived:
		if r := ev.Response; r != nil && r.Status >= 400 {
			pe.errs = append(pe.errs, fmt.Sprintf("HTTP %d %s: %s", r.Status, r.StatusText, r.URL))
		}
	}
}

func (pe *pageErrors) report(t *testing.T) {
	t.Helper()
	pe.mu.Lock()
	defer pe.mu.Unlock()
	var bad []string
	for _, e := range pe.errs {
		allowed := false
		for _, a := range pe.allowed {
			if strings.Contains(e, a) {
				allowed = true
				break
			}
		}
		if !allowed {
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the page reported %d error(s):\n\t%s", len(bad), strings.Join(bad, "\n\t"))
	}
}

func consoleText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		if len(a.Value) > 0 && json.Unmarshal(a.Value, &s) == nil {
			parts = append(parts, s)
		} else if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// artifactsDir returns where tests leave screenshots and measurements:
// $LAB_ARTIFACTS, else artifacts/ at the repository's root.
func artifactsDir() string {
	if dir := os.Getenv("LAB_ARTIFACTS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "artifacts")
}

// windowShot saves a PNG of what the window shows, scrolled as it is, as
// screenshots/<name>.png in the artifacts directory.
func windowShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	saveShot(t, name, png)
}

// screenshot saves a full-page PNG of the tab as screenshots/<name>.png in
// the artifacts directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	saveShot(t, name, png)
}

// saveShot writes png as screenshots/<name>.png in the artifacts directory.
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join(artifactsDir(), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", file)
}

// evalJS evaluates a JavaScript expression in the page, awaiting it if it
// is a promise, and decodes its value as JSON into a T. It fails the test
// if that takes more than a minute: a page that hangs fails fast.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	// A timeout on a tab that has run limits this call only.
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %q: %v", abbreviate(expr, 120), err)
	}
	return v
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// testLab starts a lab for a browser test: a new SQLite store, a test
// queue, grader g, and no run limit to speak of; tweak, if set, changes
// the config first. Everything is closed when the test ends.
func testLab(t *testing.T, g Grader, tweak func(*Config)) (*httptest.Server, *Server, labs.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	var srv atomic.Pointer[Server]
	cfg := Config{Exercises: catalog.All(), Store: store, Grader: func() Grader { return g }, RunsPerMinute: 1000}
	if tweak != nil {
		tweak(&cfg)
	}
	cfg.Queue, _ = StartTestQueue(t, "", srv.Load, cfg.Workers)
	s := New(cfg)
	srv.Store(s)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close(); store.Close() })
	return ts, s, store
}
