// Command uring is a correct lab program on io_uring: NOP, then CONNECT to
// the peer's echo listener, SEND a line and RECV the echo, all through a
// ring set up with the engine's uring package.
package main

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/uring"
)

func main() {
	runtime.LockOSThread()
	ap := netip.MustParseAddrPort(os.Args[1])
	r, err := uring.Setup(uring.Options{Entries: 8})
	check("setup", err)
	defer r.Close()
	do := func(name string, fill func(*uring.SQE)) int32 {
		fill(r.GetSQE())
		_, err := r.SubmitAndWait(1)
		check(name, err)
		cqe, ok := r.PeekCQE()
		if !ok {
			check(name, fmt.Errorf("no CQE"))
		}
		r.Advance(1)
		if cqe.Res < 0 {
			check(name, syscall.Errno(-cqe.Res))
		}
		return cqe.Res
	}
	do("nop", func(s *uring.SQE) { s.PrepNop() })
	fmt.Println("nop: ok")
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	check("socket", err)
	sa := make([]byte, syscall.SizeofSockaddrInet4)
	*(*uint16)(unsafe.Pointer(&sa[0])) = unix.AF_INET
	sa[2], sa[3] = byte(ap.Port()>>8), byte(ap.Port())
	a := ap.Addr().As4()
	copy(sa[4:8], a[:])
	do("connect", func(s *uring.SQE) { s.PrepConnect(fd, uintptr(unsafe.Pointer(&sa[0])), uint32(len(sa))) })
	runtime.KeepAlive(sa)
	fmt.Println("connect: ok")
	msg := []byte("ping from io_uring\n")
	do("send", func(s *uring.SQE) { s.PrepSend(fd, uintptr(unsafe.Pointer(&msg[0])), uint32(len(msg)), 0) })
	runtime.KeepAlive(msg)
	var got []byte
	buf := make([]byte, 256)
	for len(got) < len(msg) {
		n := do("recv", func(s *uring.SQE) { s.PrepRecv(fd, uintptr(unsafe.Pointer(&buf[0])), uint32(len(buf)), 0) })
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	runtime.KeepAlive(buf)
	fmt.Printf("echo: %s", got)
}

func check(what string, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, what+":", err)
		os.Exit(1)
	}
}
