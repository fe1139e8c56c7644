package builder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSweep removes the build directories no process holds, keeps a live
// build's and anything not a build's, and counts only the bytes removing
// them frees.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o711); err != nil {
		t.Fatal(err)
	}
	// A directory a killed process left: its own file, and one linked
	// from elsewhere (as the warm cache is), which removing it keeps.
	dead := filepath.Join(work, workPrefix+"dead")
	shared := filepath.Join(dir, "shared")
	for path, size := range map[string]int{filepath.Join(dead, "ws", "main.go"): 1000, shared: 5000} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(shared, filepath.Join(dead, "cached")); err != nil {
		t.Fatal(err)
	}
	live, err := newWorkDir(work)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(work, "not-a-build")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}

	sw, err := Sweep(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Dirs != 1 || sw.Bytes != 1000 {
		t.Errorf("Sweep = %+v, want 1 directory of 1000 bytes", sw)
	}
	for path, want := range map[string]bool{dead: false, live.path: true, other: true, shared: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", path, err == nil, want)
		}
	}

	// Once the live build is done its directory is gone, and a second
	// removal is harmless.
	if err := live.remove(); err != nil {
		t.Fatal(err)
	}
	if err := live.remove(); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if _, err := os.Stat(live.path); !os.IsNotExist(err) {
		t.Errorf("%s survived its removal: %v", live.path, err)
	}
	if sw, err := Sweep(context.Background(), dir); err != nil || sw.Dirs != 0 {
		t.Errorf("a second sweep = %+v, %v; want nothing to do", sw, err)
	}
}
