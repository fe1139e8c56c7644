package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The server, the store, the pages and the CLI build off Linux: only
// running a handler needs it (the sandbox and the engine), and those
// commands say so there. A package that drags the engine into the
// server's imports breaks this test.
func TestBuildsOffLinux(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, goos := range []string{"darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, ".")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go build ./cmd/lab: %v\n%s", goos, err, out)
			}
		})
	}
}
