// Command epoll is a correct lab program: it connects to the peer's echo
// listener with a non-blocking socket driven by epoll, sends a line and
// reads the echo.
package main

import (
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	ap := netip.MustParseAddrPort(os.Args[1])
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	check("socket", err)
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	check("epoll_create1", err)
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
	if err != unix.EINPROGRESS {
		check("connect", err)
	}
	check("epoll_ctl", unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}))
	wait(ep)
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	check("getsockopt", err)
	if v != 0 {
		check("connect", unix.Errno(v))
	}
	msg := []byte("ping from epoll\n")
	_, err = unix.Write(fd, msg)
	check("write", err)
	check("epoll_ctl", unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}))
	var got []byte
	buf := make([]byte, 256)
	for len(got) < len(msg) {
		wait(ep)
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN {
			continue
		}
		check("read", err)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	fmt.Printf("echo: %s", got)
}

func wait(ep int) {
	ev := make([]unix.EpollEvent, 1)
	for {
		n, err := unix.EpollWait(ep, ev, 5000)
		if err == unix.EINTR {
			continue
		}
		check("epoll_wait", err)
		if n == 0 {
			check("epoll_wait", fmt.Errorf("timed out"))
		}
		return
	}
}

func check(what string, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, what+":", err)
		os.Exit(1)
	}
}
