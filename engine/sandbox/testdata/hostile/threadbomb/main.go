// Command threadbomb pins goroutines to OS threads until no more threads
// can be made; the Go runtime then dies with "failed to create new OS
// thread" and dumps every goroutine. With an argument N it first parks N
// idle goroutines, so that the dump is N goroutines long.
package main

import (
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		n, _ := strconv.Atoi(os.Args[1])
		park := make(chan struct{})
		for range n {
			go func() { <-park }()
		}
	}
	for {
		go func() {
			runtime.LockOSThread()
			time.Sleep(time.Hour)
		}()
		time.Sleep(100 * time.Microsecond)
	}
}
