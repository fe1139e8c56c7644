package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// lab gc removes a killed build's directory and old practice runs, keeps
// submissions and recent runs, and says what it freed; lab backup copies
// the store into a file that opens as a store with the same runs.
func TestGCAndBackup(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(data, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	for _, r := range []struct {
		id      string
		mode    labs.RunMode
		created time.Time
	}{
		{"20261101-000000-00000001", labs.ModeRun, old},
		{"20261101-000000-00000002", labs.ModeSubmit, old},
		{"20261101-000000-00000003", labs.ModeRun, time.Now()},
	} {
		run := &labs.Run{ID: r.id, Exercise: "connect", Mode: r.mode, Client: "alice", Code: "package handler\n", Created: r.created}
		if err := store.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if err := store.StartRun(ctx, r.id, r.created); err != nil {
			t.Fatal(err)
		}
		out := labs.Outcome{Verdict: "ran", Result: []byte(`{}`), Finished: r.created}
		if err := store.FinishRun(ctx, r.id, out, []labs.Trace{{Track: "t-epoll", Data: bytes.Repeat([]byte{1}, 100<<10)}}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	dead := filepath.Join(data, "build", "work", "build-dead")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "prog"), make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := runLab(t, "gc", "--data", data, "--keep-practice", "168h")
	if err != nil {
		t.Fatalf("lab gc: %v\n%s", err, out)
	}
	for _, want := range []string{"1 removed, 3.0 MiB freed", "older than 168h0m0s: 1 pruned with 1 traces"} {
		if !strings.Contains(out, want) {
			t.Errorf("lab gc said:\n%s\nwant it to contain %q", out, want)
		}
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead build directory survived: %v", err)
	}

	backup := filepath.Join(t.TempDir(), "copy.db")
	out, err = runLab(t, "backup", "--data", data, backup)
	if err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("lab backup: %v, %q", err, out)
	}
	copied, err := sqlite.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	for id, want := range map[string]bool{"20261101-000000-00000001": false, "20261101-000000-00000002": true, "20261101-000000-00000003": true} {
		_, err := copied.Run(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("run %s in the backup: %v (%v), want %v", id, got, err, want)
		}
	}
	if _, err := runLab(t, "backup", "--data", data, backup); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a backup over an existing file: %v, want a refusal", err)
	}
}
