// Command daemon double-forks a setsid daemon that ignores SIGHUP and
// SIGTERM and writes a heartbeat file into the writable directory it is
// given every 20ms; the program itself exits at once. The daemon must die
// with the run.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	dir := os.Args[1]
	switch {
	case len(os.Args) > 2 && os.Args[2] == "first":
		_, err := syscall.ForkExec("/proc/self/exe", []string{"daemon", dir, "second"}, &syscall.ProcAttr{
			Sys: &syscall.SysProcAttr{Setsid: true},
		})
		if err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	case len(os.Args) > 2 && os.Args[2] == "second":
		signal.Ignore(syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
		for i := 0; ; i++ {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("beat-%d", i)), nil, 0o644)
			time.Sleep(20 * time.Millisecond)
		}
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"daemon", dir, "first"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		fmt.Println("fork:", err)
		os.Exit(3)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	// Let the daemon beat a few times before leaving it behind.
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(dir, "beat-3")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("daemon started")
}
