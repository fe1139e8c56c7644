package builder_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
)

// newBuilder returns one builder for the whole test binary, so the
// template and the warm cache are made once.
func newBuilder(t *testing.T) *builder.Builder {
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
		shared, sharedErr = builder.New(builder.Config{Dir: dir})
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

var _ = filepath.Join
var _ = time.Second
