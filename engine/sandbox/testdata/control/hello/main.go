// Command hello prints how it sees itself: ids, capabilities, security
// state, its id maps, pid, hostname, arguments and environment.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			report.Text(k, strings.Join(strings.Fields(v), " "))
		}
	}
	for _, f := range []string{"uid_map", "gid_map", "setgroups"} {
		b, _ := os.ReadFile("/proc/self/" + f)
		report.Text(f, strings.Join(strings.Fields(string(b)), " "))
	}
	report.Text("pid", fmt.Sprint(os.Getpid()))
	h, _ := os.Hostname()
	report.Text("hostname", h)
	wd, _ := os.Getwd()
	report.Text("wd", wd)
	report.Text("args", strings.Join(os.Args, " "))
	report.Text("env", strings.Join(os.Environ(), " "))
	in, err := os.ReadFile("/tmp/in.txt")
	report.Text("file", fmt.Sprintf("%q %v", in, err))
	fi, err := os.Stat("/etc/config.json")
	if err == nil {
		report.Text("file mode", fi.Mode().String())
	}
	nets, _ := os.ReadFile("/proc/self/net/dev")
	for _, l := range strings.Split(string(nets), "\n")[2:] {
		if name, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			report.Text("interface", name)
		}
	}
	fmt.Fprint(os.Stderr, "to stderr")
	os.NewFile(3, "trace").Write([]byte("to trace"))
}
