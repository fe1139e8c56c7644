// Command hostfacts prints what the box tells about the host it runs on:
// its mounts as /proc/self/mountinfo shows them (with each mount's root
// in its filesystem, which for a bind is a path on the host), its
// cgroups, and how long the machine has been up.
package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	report.Line("read mountinfo", err)
	for _, l := range strings.Split(strings.TrimSpace(string(mi)), "\n") {
		report.Text("mount", l)
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	report.Line("read cgroup", err)
	for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		report.Text("cgroup", l)
	}
	if up, err := os.ReadFile("/proc/uptime"); err != nil {
		report.Line("proc uptime", err)
	} else {
		report.Text("proc uptime", strings.Fields(string(up))[0])
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		report.Line("sysinfo uptime", err)
	} else {
		report.Text("sysinfo uptime", fmt.Sprint(si.Uptime))
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	report.Text("boottime", fmt.Sprint(ts.Sec))
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	report.Text("monotonic", fmt.Sprint(ts.Sec))
}
