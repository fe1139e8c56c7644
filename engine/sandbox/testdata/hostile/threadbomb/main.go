// Command threadbomb pins goroutines to OS threads until no more threads
// can be made; the Go runtime then dies with "failed to create new OS
// thread".
package main

import (
	"runtime"
	"time"
)

func main() {
	for {
		go func() {
			runtime.LockOSThread()
			time.Sleep(time.Hour)
		}()
		time.Sleep(100 * time.Microsecond)
	}
}
