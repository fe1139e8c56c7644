package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// runLab runs the real program with args and returns what it printed.
func runLab(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut)
	err := m.ParseFlags(context.Background(), args)
	if err == nil {
		err = m.Run(context.Background())
	}
	m.Close()
	return out.String(), err
}

func TestRunDemo(t *testing.T) {
	out, err := runLab(t, "run", "demo", "--backend", "both")
	if err != nil {
		t.Fatalf("lab run demo: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"summary:", "epoll: 5 wakeups", "uring: 1 wakeup", "1 completion"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q lacks %q", last, want)
		}
	}
	if !strings.Contains(out, "recvfrom") && !strings.Contains(out, "read  fd=") {
		t.Errorf("the epoll timeline shows no reads:\n%s", out)
	}
	if n := strings.Count(out, "res=-EAGAIN"); n != 4 {
		t.Errorf("epoll timeline has %d EAGAIN reads, want 4 (one after each of the first four packets)", n)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown command", []string{"fly"}},
		{"run without exercise", []string{"run"}},
		{"bad backend", []string{"run", "demo", "--backend", "kqueue"}},
		{"bench without suite", []string{"bench"}},
		{"rescue before the job timeout", []string{"serve", "--job-timeout", "2m", "--rescue-after", "1m"}},
		{"worker rescue before the job timeout", []string{"worker", "--db", "postgres://x/y", "--rescue-after", "5m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runLab(t, tt.args...)
			if !errors.Is(err, errUsage) {
				t.Errorf("lab %v = %v, want a usage error", tt.args, err)
			}
		})
	}
	if _, err := runLab(t, "run", "nosuch"); err == nil || !strings.Contains(err.Error(), "unknown exercise") {
		t.Errorf("lab run nosuch = %v, want unknown exercise", err)
	}
}

func TestDoctor(t *testing.T) {
	out, err := runLab(t, "doctor")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "io_uring") || !strings.Contains(out, "namespace") || !strings.Contains(out, "seccomp") {
		t.Errorf("doctor output lacks io_uring:\n%s", out)
	}
}

func TestGradeUsage(t *testing.T) {
	if _, err := runLab(t, "grade", "connect"); !errors.Is(err, errUsage) {
		t.Errorf("lab grade connect (no file) = %v, want a usage error", err)
	}
	if _, err := runLab(t, "grade", "nosuch", "x.go"); err == nil || !strings.Contains(err.Error(), "unknown exercise") {
		t.Errorf("lab grade nosuch = %v, want unknown exercise", err)
	}
}

// TestServe starts the real server on a free port and loads the catalogue.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var out bytes.Buffer
	m := NewMain(&out, &out)
	m.cmd = &serveCmd{addr: "127.0.0.1:0", dataDir: t.TempDir(), ready: ready}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve ended early: %v\n%s", err, out.String())
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `data-testid="exercise-connect"`) {
		t.Errorf("GET / = %d\n%s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel = %v, want nil", err)
	}
}
