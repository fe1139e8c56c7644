// Command forkbomb starts copies of itself, which start copies of
// themselves, forever. The pids limit must stop it and the wall-clock
// limit end it.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	n, reported := 0, false
	for {
		_, err := syscall.ForkExec("/proc/self/exe", []string{"forkbomb"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
		if err == nil {
			n++
			continue
		}
		if os.Getpid() == 1 && !reported {
			reported = true
			report.Line(fmt.Sprintf("fork refused after %d", n), err)
		}
		time.Sleep(time.Millisecond)
	}
}
