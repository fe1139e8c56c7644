// Command light is a CPU-light lab-like program: for a second it sleeps
// and bounces a byte through a pipe watched by epoll.
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	var p [2]int
	check(unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	check(err)
	check(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, p[0], &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(p[0])}))
	ev := make([]unix.EpollEvent, 1)
	b := make([]byte, 1)
	n := 0
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); n++ {
		_, err := unix.Write(p[1], []byte{byte(n)})
		check(err)
		if _, err := unix.EpollWait(ep, ev, 1000); err != nil && err != unix.EINTR {
			check(err)
		}
		_, err = unix.Read(p[0], b)
		check(err)
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("rounds", n)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
