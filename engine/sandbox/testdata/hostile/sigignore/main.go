// Command sigignore ignores every signal it can, in itself and in a
// child, and sleeps forever.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1,
		syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGXCPU, syscall.SIGTSTP)
	if len(os.Args) == 1 {
		if _, err := syscall.ForkExec("/proc/self/exe", []string{"sigignore", "child"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}); err != nil {
			fmt.Println("fork:", err)
		}
		fmt.Println("ignoring")
	}
	time.Sleep(time.Hour)
}
