// Command ringescape tries to open sockets past seccomp through io_uring,
// whose SOCKET op is not a system call: on an unrestricted ring of its own
// (the control, which shows the kernel can), on rings restricted the way
// the engine restricts its own, and by making a new ring after the engine
// has forbidden new rings (uring.ForbidNewRings, as the harness does).
//
// Each attempt prints "name<TAB>result", the result "ok" or an errno name.
package main

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
	"github.com/asynclab/asynclab/engine/uring"
)

// ring is a ring on the main goroutine's locked thread.
type ring struct{ r *uring.Ring }

func setup(rs *uring.Restrictions) (*ring, error) {
	r, err := uring.Setup(uring.Options{Entries: 8, Restrict: rs})
	if err != nil {
		return nil, err
	}
	return &ring{r}, nil
}

// do submits one SQE and returns its result as an errno (0: success). A
// descriptor the op made is closed.
func (r *ring) do(fill func(*uring.SQE)) syscall.Errno {
	fill(r.r.GetSQE())
	if _, err := r.r.SubmitAndWait(1); err != nil {
		return syscall.EIO
	}
	c, ok := r.r.PeekCQE()
	if !ok {
		return syscall.EIO
	}
	r.r.Advance(1)
	if c.Res < 0 {
		return syscall.Errno(-c.Res)
	}
	if c.UserData == 1 {
		unix.Close(int(c.Res))
	}
	return 0
}

// socket prepares IORING_OP_SOCKET as liburing's io_uring_prep_socket
// does: fd = domain, off = type, len = protocol.
func socket(family, typ, proto int) func(*uring.SQE) {
	return func(s *uring.SQE) {
		s.Opcode, s.Fd, s.Off, s.Len = uint8(uring.OpSocket), int32(family), uint64(typ), uint32(proto)
		s.UserData = 1 // the result is a descriptor
	}
}

// vsockHost is struct sockaddr_vm for the hypervisor (CID 2), port 1024.
var vsockHost = unix.RawSockaddrVM{Family: unix.AF_VSOCK, Cid: 2, Port: 1024}

var families = []struct {
	name             string
	family, typ, pro int
}{
	{"vsock", unix.AF_VSOCK, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0},
	{"netlink", unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE},
}

func main() {
	runtime.LockOSThread()

	// socket(2) for the record: the box's seccomp filter sees it.
	for _, f := range families {
		fd, err := unix.Socket(f.family, f.typ, f.pro)
		if err == nil {
			unix.Close(fd)
		}
		report.Line("syscall socket "+f.name, err)
	}

	// Every ring the program will have, made before new rings are
	// forbidden, as the harness does.
	loopRS, rawRS := engine.RingRestrictions()
	control, err := setup(nil)
	report.Line("control setup", err)
	loopRing, err := setup(&loopRS)
	report.Line("loop setup", err)
	rawRing, err := setup(&rawRS)
	report.Line("raw setup", err)
	if control == nil || loopRing == nil || rawRing == nil {
		return
	}

	// The control: an unrestricted ring opens what socket(2) may not.
	for _, f := range families {
		report.Text("control socket "+f.name, report.Errno(control.do(socket(f.family, f.typ, f.pro))))
	}
	// The engine's rings refuse SOCKET whatever the family.
	for _, r := range []struct {
		name string
		r    *ring
	}{{"loop", loopRing}, {"raw", rawRing}} {
		for _, f := range families {
			report.Text(r.name+" socket "+f.name, report.Errno(r.r.do(socket(f.family, f.typ, f.pro))))
		}
	}
	// CONNECT: the loop's ring allows it, on a socket seccomp let the
	// program make, so a vsock address is only a wrong address; the raw
	// ring refuses it outright.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		report.Line("inet socket", err)
		return
	}
	connect := func(s *uring.SQE) {
		s.PrepConnect(fd, uintptr(unsafe.Pointer(&vsockHost)), uint32(unsafe.Sizeof(vsockHost)))
	}
	report.Text("loop connect vsock address", report.Errno(loopRing.do(connect)))
	report.Text("raw connect vsock address", report.Errno(rawRing.do(connect)))
	runtime.KeepAlive(&vsockHost)
	unix.Close(fd)
	// A restricted ring's register calls are limited too.
	var buf [4096]byte
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(loopRing.r.Fd()), uintptr(uring.RegisterProbe),
		uintptr(unsafe.Pointer(&buf[0])), 256, 0, 0)
	report.Text("loop register probe", report.Errno(e))

	// An engine loop on io_uring, then new rings forbidden from its
	// first callback, as kit does.
	l := engine.New(engine.Config{Backend: engine.Uring})
	var newRingErr error
	forbidErr := errors.New("not run")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = l.Run(ctx, "main", func() {
		forbidErr = uring.ForbidNewRings()
		_, newRingErr = l.NewRing(8)
		// The loop's own ring still works: a timer through it.
		l.AfterFunc("stop", time.Millisecond, l.Stop)
	})
	report.Line("forbid", forbidErr)
	report.Line("engine loop after forbid", err)
	report.Line("engine NewRing after forbid", newRingErr)

	// Raw io_uring_setup, on this thread and on a new one.
	var p [120]byte // struct io_uring_params, zeroed
	_, _, e = unix.Syscall(unix.SYS_IO_URING_SETUP, 8, uintptr(unsafe.Pointer(&p[0])), 0)
	report.Text("setup after forbid", report.Errno(e))
	done := make(chan syscall.Errno)
	go func() {
		runtime.LockOSThread() // a thread of its own, never unlocked: it exits with the goroutine
		var p [120]byte
		_, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 8, uintptr(unsafe.Pointer(&p[0])), 0)
		done <- e
	}()
	report.Text("setup after forbid, new thread", report.Errno(<-done))
	// The rings made before still work: forbidding is about new ones.
	report.Text("control nop after forbid", report.Errno(control.do(func(s *uring.SQE) { s.PrepNop() })))
}
