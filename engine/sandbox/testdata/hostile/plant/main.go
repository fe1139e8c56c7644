// Command plant leaves traps in the writable directory it is given, where
// the server may read results after the run: a symlink to /etc/shadow in
// place of the result, a FIFO, a big file, a device node, a hard link and a symlinked
// directory.
package main

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	dir := os.Args[1]
	in := func(n string) string { return filepath.Join(dir, n) }
	report.Line("ok", os.WriteFile(in("ok.txt"), []byte("fine\n"), 0o644))
	os.Remove(in("result.txt"))
	report.Line("symlink", os.Symlink("/etc/shadow", in("result.txt")))
	report.Line("fifo", unix.Mkfifo(in("fifo.txt"), 0o644))
	f, err := os.Create(in("big.txt"))
	if err == nil {
		_, err = f.WriteAt([]byte{1}, 512<<10)
		f.Close()
	}
	report.Line("big", err)
	os.WriteFile(in("hard.txt"), []byte("x"), 0o644)
	report.Line("hardlink", os.Link(in("hard.txt"), in("hard2.txt")))
	report.Line("dirlink", os.Symlink("/etc", in("etc")))
	os.MkdirAll(in("sub"), 0o755)
	report.Line("nested", os.Symlink("/etc/shadow", in("sub/result.txt")))
	report.Line("device", unix.Mknod(in("dev.txt"), unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))))
}
