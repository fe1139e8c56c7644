// Command inotify takes as many inotify instances as it can, and asks the
// server's peer at the address in its argument to take one while it holds
// them; it also tries fanotify. Each inotify instance of a box counts
// against the limit of the user who created the box's user namespace
// (root, for a root server), host-wide: a box that held them all would
// leave the host's own services without.
package main

import (
	"bufio"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

// sysInotifyInit is inotify_init on amd64; arm64 has inotify_init1 only.
const sysInotifyInit = 253

func main() {
	var fds []int
	var first error
	for range 200 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
		if err != nil {
			first = err
			break
		}
		fds = append(fds, fd)
	}
	report.Line("inotify_init1", first)
	report.Text("instances", strconv.Itoa(len(fds)))
	if runtime.GOARCH == "amd64" {
		_, _, e := syscall.RawSyscall(sysInotifyInit, 0, 0, 0)
		report.Text("inotify_init", report.Errno(e))
	}
	_, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC, unix.O_RDONLY)
	report.Line("fanotify_init", err)

	c, err := net.Dial("tcp", os.Args[1])
	if err != nil {
		report.Line("dial", err)
		return
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		report.Line("host", err)
		return
	}
	report.Text("host", strings.TrimSpace(line))
}
