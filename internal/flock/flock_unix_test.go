//go:build unix

package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAcquire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab.lock")
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire(%s) = %v", path, err)
	}
	// A second open file description conflicts even in this process, as a
	// second server's would.
	_, err = Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire(%s) again = %v, want a *HeldError wrapping ErrLocked", path, err)
	}
	if held.PID != os.Getpid() {
		t.Errorf("HeldError.PID = %d, want %d (this process)", held.PID, os.Getpid())
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	l, err = Acquire(path)
	if err != nil {
		t.Fatalf("Acquire(%s) after Close = %v", path, err)
	}
	l.Close()
}

func TestTryLockDir(t *testing.T) {
	dir := t.TempDir()
	open := func() *os.File {
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if err := TryLock(a); err != nil {
		t.Fatalf("TryLock(dir) = %v", err)
	}
	if err := TryLock(b); !errors.Is(err, ErrLocked) {
		t.Errorf("TryLock(dir) held elsewhere = %v, want %v", err, ErrLocked)
	}
	a.Close()
	if err := TryLock(b); err != nil {
		t.Errorf("TryLock(dir) after the holder closed = %v", err)
	}
}

func TestHolderFromFile(t *testing.T) {
	// Where /proc/locks does not say, the pid the holder wrote is read.
	path := filepath.Join(t.TempDir(), "lab.lock")
	if err := os.WriteFile(path, []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := holder(path); got != 4242 {
		t.Errorf("holder(%s) unlocked, holding 4242 = %d, want 4242", path, got)
	}
}
