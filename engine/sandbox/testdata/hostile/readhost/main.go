// Command readhost tries to read what is not its own: a database file on
// the host, another submission's directory, the server's environment and
// the host's secrets, with plain system calls and with io_uring OPENAT.
// It also lists every file it can see.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/ringop"
	"github.com/asynclab/asynclab/engine/uring"
)

func main() {
	db, other, server := os.Args[1], os.Args[2], os.Args[3]
	try := func(name, path string) {
		b, err := os.ReadFile(path)
		if err == nil {
			report.Text(name, fmt.Sprintf("READ %q", truncate(b)))
			return
		}
		report.Line(name, err)
	}
	try("db", db)
	try("db via proc root", "/proc/self/root"+db)
	try("db via proc 1 root", "/proc/1/root"+db)
	_, err := os.ReadDir(other)
	report.Line("other submission", err)
	try("server environ", "/proc/"+server+"/environ")
	try("server cmdline", "/proc/"+server+"/cmdline")
	try("etc shadow", "/etc/shadow")
	try("etc passwd", "/etc/passwd")
	try("escape dotdot", "/box/../../../../etc/passwd")
	try("sysrq", "/proc/sysrq-trigger")
	try("kcore", "/proc/kcore")
	try("sys", "/sys/kernel/notes")
	env, _ := os.ReadFile("/proc/1/environ")
	report.Text("own environ", strings.ReplaceAll(string(env), "\x00", " "))

	r, err := ringop.Setup()
	if err != nil {
		report.Line("io_uring setup", err)
	} else {
		for _, p := range []struct{ name, path string }{{"uring db", db}, {"uring shadow", "/etc/shadow"}, {"uring other", other}} {
			b := append([]byte(p.path), 0)
			e, _ := r.Do(func(s *uring.SQE) {
				s.Opcode = uint8(ringop.OpOpenat)
				s.Fd = unix.AT_FDCWD
				s.Addr = uint64(uintptr(unsafe.Pointer(&b[0])))
				s.OpFlags = unix.O_RDONLY
			})
			runtime.KeepAlive(b)
			report.Text(p.name, report.Errno(e))
		}
	}

	filepath.WalkDir("/", func(p string, d fs.DirEntry, err error) error {
		if p == "/proc" {
			return filepath.SkipDir
		}
		if err == nil {
			report.Text("visible", p)
		}
		return nil
	})
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
