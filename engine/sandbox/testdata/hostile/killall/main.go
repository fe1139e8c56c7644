// Command killall tries to kill everything it can name: every process,
// PID 1, its parent, its process group and the server (whose host pid it
// is given).
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		time.Sleep(time.Hour)
	}
	server, _ := strconv.Atoi(os.Args[1])
	child, err := syscall.ForkExec("/proc/self/exe", []string{"killall", "child"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	report.Line("fork", err)
	report.Text("ppid", strconv.Itoa(os.Getppid()))
	report.Line("kill server", syscall.Kill(server, syscall.SIGKILL))
	report.Line("kill server group", syscall.Kill(-server, syscall.SIGKILL))
	report.Line("kill -1", syscall.Kill(-1, syscall.SIGKILL))
	var ws syscall.WaitStatus
	_, err = syscall.Wait4(child, &ws, 0, nil)
	report.Text("child", fmt.Sprintf("%v signaled=%v %v", err, ws.Signaled(), ws.Signal()))
	report.Line("kill 1", syscall.Kill(1, syscall.SIGKILL))
	report.Line("kill ppid", syscall.Kill(os.Getppid(), syscall.SIGKILL))
	report.Line("kill 0", syscall.Kill(0, syscall.SIGKILL))
	report.Text("survived", "yes")
}
