package builder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/asynclab/asynclab/internal/flock"
)

// A build's directory, Dir/work/build-*, holds the student's code, its
// compiled objects and binary. The process that builds in it holds a flock
// on the directory until [Result.Cleanup] removes it, so a sweep tells a
// live build (locked) from one a killed process left (unlocked), whichever
// process made it: `lab serve`, `lab grade`, or a test.
const workPrefix = "build-"

// workDir is a build directory, locked by this process.
type workDir struct {
	path string
	lock *os.File // holds the flock
}

// newWorkDir makes and locks a new build directory under parent.
func newWorkDir(parent string) (*workDir, error) {
	for range 8 {
		dir, err := os.MkdirTemp(parent, workPrefix)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a sweep took it before the lock
		}
		if err != nil {
			return nil, err
		}
		switch err := flock.TryLock(f); {
		case errors.Is(err, flock.ErrLocked):
			f.Close() // a sweep is removing it
			continue
		case err != nil:
			f.Close()
			os.Remove(dir)
			return nil, err
		}
		// A sweep may have locked, removed and let go of it between the
		// mkdir and the lock: the lock is then on a directory that is gone.
		held, err1 := f.Stat()
		named, err2 := os.Lstat(dir)
		if err1 != nil || err2 != nil || !os.SameFile(held, named) {
			f.Close()
			continue
		}
		return &workDir{path: dir, lock: f}, nil
	}
	return nil, fmt.Errorf("make a build directory in %s: sweeps kept taking it", parent)
}

// remove removes the directory, then lets go of its lock. A directory
// that could not be removed is left for a sweep.
func (w *workDir) remove() error {
	if w == nil || w.lock == nil {
		return nil
	}
	err := os.RemoveAll(w.path)
	w.lock.Close()
	w.lock = nil
	if err != nil {
		return fmt.Errorf("builder: remove %s: %w", w.path, err)
	}
	return nil
}

// Swept is what [Sweep] removed.
type Swept struct {
	Dirs  int   // build directories
	Bytes int64 // bytes of files removed with them that no other directory links to
}

// Sweep removes every build directory under dir, the Dir of a [Config],
// that no live process builds in: those a killed or crashed process left.
// It is safe while builds of this and other processes run, whose
// directories it keeps. `lab serve` sweeps at start, `lab gc` on demand.
func Sweep(ctx context.Context, dir string) (Swept, error) {
	var sw Swept
	work := filepath.Join(dir, "work")
	entries, err := os.ReadDir(work)
	if errors.Is(err, fs.ErrNotExist) {
		return sw, nil
	}
	if err != nil {
		return sw, fmt.Errorf("builder: sweep: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return sw, fmt.Errorf("builder: sweep: %w", err)
		}
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workPrefix) {
			continue
		}
		n, removed, err := sweepOne(filepath.Join(work, e.Name()))
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			sw.Dirs++
			sw.Bytes += n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return sw, fmt.Errorf("builder: sweep: %w", err)
	}
	return sw, nil
}

// sweepOne removes the build directory at path unless a live process
// holds its lock, and says how many bytes that freed.
func sweepOne(path string) (int64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil // its build ended meanwhile
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	if err := flock.TryLock(f); errors.Is(err, flock.ErrLocked) {
		return 0, false, nil // a live build
	} else if err != nil {
		return 0, false, err
	}
	n := ownBytes(path)
	if err := os.RemoveAll(path); err != nil {
		return 0, false, err
	}
	return n, true, nil
}

// ownBytes adds up the sizes of the regular files under path that have no
// other link: what removing path frees. The files a build links from the
// warm cache stay with the cache.
func ownBytes(path string) int64 {
	var n int64
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil && links(fi) == 1 {
			n += fi.Size()
		}
		return nil
	})
	return n
}
