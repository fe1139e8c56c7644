// Command egress tries to reach the network: a listener on the host's
// loopback, the host's own addresses and the outside world, with connect
// and with io_uring CONNECT; and to open sockets of other families
// through io_uring SOCKET, which seccomp cannot see.
package main

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/ringop"
	"github.com/asynclab/asynclab/engine/uring"
)

func main() {
	// Targets: name=ip:port, from the command line.
	type target struct {
		name string
		ap   netip.AddrPort
	}
	var targets []target
	for _, a := range os.Args[1:] {
		name, addr, _ := strings.Cut(a, "=")
		targets = append(targets, target{name, netip.MustParseAddrPort(addr)})
	}
	for _, t := range targets {
		start := time.Now()
		c, err := net.DialTimeout("tcp", t.ap.String(), 2*time.Second)
		if c != nil {
			c.Close()
		}
		report.Line("tcp "+t.name, err)
		report.Text("tcp "+t.name+" fast", ok(time.Since(start) < time.Second))
	}
	u, err := net.Dial("udp", "8.8.8.8:53")
	if err == nil {
		_, err = u.Write([]byte("x"))
		u.Close()
	}
	report.Line("udp 8.8.8.8", err)

	r, err := ringop.Setup()
	if err != nil {
		report.Line("io_uring setup", err)
		return
	}
	for _, t := range targets {
		fam := unix.AF_INET
		if t.ap.Addr().Is6() {
			fam = unix.AF_INET6
		}
		fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			report.Line("uring "+t.name, err)
			continue
		}
		sa, n := rawSockaddr(t.ap)
		start := time.Now()
		e, _ := r.Do(func(s *uring.SQE) { s.PrepConnect(fd, uintptr(unsafe.Pointer(&sa[0])), n) })
		runtime.KeepAlive(sa)
		unix.Close(fd)
		report.Text("uring "+t.name, report.Errno(e))
		report.Text("uring "+t.name+" fast", ok(time.Since(start) < time.Second))
	}
	for _, f := range []struct {
		name     string
		fam, typ int
		protocol int
	}{
		{"packet", unix.AF_PACKET, unix.SOCK_RAW, 0x0300},
		{"netlink", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE},
		{"vsock", unix.AF_VSOCK, unix.SOCK_STREAM, 0},
		{"raw inet", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP},
	} {
		e, res := r.Do(func(s *uring.SQE) {
			s.Opcode = uint8(ringop.OpSocket)
			s.Fd = int32(f.fam)
			s.Off = uint64(f.typ)
			s.Len = uint32(f.protocol)
		})
		if e == 0 {
			unix.Close(int(res))
		}
		report.Text("uring socket "+f.name, report.Errno(e))
	}
}

func ok(b bool) string {
	if b {
		return "ok"
	}
	return "slow"
}

// rawSockaddr encodes ap as a struct sockaddr_in or sockaddr_in6.
func rawSockaddr(ap netip.AddrPort) ([]byte, uint32) {
	port := ap.Port()
	if ap.Addr().Is4() {
		b := make([]byte, syscall.SizeofSockaddrInet4)
		*(*uint16)(unsafe.Pointer(&b[0])) = unix.AF_INET
		b[2], b[3] = byte(port>>8), byte(port)
		a := ap.Addr().As4()
		copy(b[4:8], a[:])
		return b, uint32(len(b))
	}
	b := make([]byte, syscall.SizeofSockaddrInet6)
	*(*uint16)(unsafe.Pointer(&b[0])) = unix.AF_INET6
	b[2], b[3] = byte(port>>8), byte(port)
	a := ap.Addr().As16()
	copy(b[8:24], a[:])
	return b, uint32(len(b))
}
