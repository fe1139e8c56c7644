package builder

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// GoBuild builds req as the builder did before toolrun, as a baseline for
// BenchmarkBuild: `go build -trimpath` in the build sandbox, on a hard-
// linked copy of the warm cache (the go command must be able to write
// its cache). It returns how long the copy and the build took.
func (b *Builder) GoBuild(ctx context.Context, req Request) (time.Duration, error) {
	if err := b.Prepare(ctx); err != nil {
		return 0, err
	}
	work, err := newWorkDir(filepath.Join(b.cfg.Dir, "work"))
	if err != nil {
		return 0, err
	}
	defer work.remove()
	ws := filepath.Join(work.path, "ws")
	if err := b.writeWorkspace(ws, req); err != nil {
		return 0, err
	}
	start := time.Now()
	cache := filepath.Join(work.path, "cache")
	if err := linkTree(b.cache, cache); err != nil {
		return 0, err
	}
	out, err := b.goCommand(ctx, ws, cache, b.cfg.Limits, "build", "-trimpath", "-p", "2", "-o", boxOut, ".")
	if err != nil {
		return 0, err
	}
	if !out.ok {
		return 0, fmt.Errorf("go build: %s\n%s", out.reason, out.log)
	}
	return time.Since(start), nil
}

// linkTree copies the directory tree src to dst with hard links for files.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o777); err != nil {
				return err
			}
			return os.Chmod(target, 0o777)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return os.Link(p, target)
	})
}
