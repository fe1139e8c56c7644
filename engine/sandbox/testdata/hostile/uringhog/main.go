// Command uringhog takes all the io_uring memory the kernel will charge
// to its user, then holds it. The kernel charges rings (Linux 6.14+ puts
// every ring region in the user's locked memory) and registered buffers
// to the user's locked_vm, against RLIMIT_MEMLOCK: a box that holds the
// budget of a uid it shares with another box starves that box's rings.
//
//	uringhog hold ADDR   take the budget, say so to ADDR (the test's
//	                     peer), and hold it until the peer hangs up
//	uringhog probe       set up a ring and run a NOP
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
	"github.com/asynclab/asynclab/engine/uring"
)

// params is struct io_uring_params; the kernel fills in the offsets.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff, cqOff                                                           [10]uint32
}

const registerBuffers = 0 // IORING_REGISTER_BUFFERS

func setup(entries uint32) (int, error) {
	var p params
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func register(fd int, buf []byte) error {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), registerBuffers, uintptr(unsafe.Pointer(&iov)), 1, 0, 0)
	runtime.KeepAlive(&iov)
	if e != 0 {
		return e
	}
	return nil
}

func main() {
	switch os.Args[1] {
	case "hold":
		hold(os.Args[2])
	case "probe":
		probe()
	}
}

// hold pins all it can: registered buffers of halving sizes, one ring
// each, then rings alone until the kernel refuses one with ENOMEM.
func hold(addr string) {
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim)
	report.Text("memlock", fmt.Sprint(lim.Cur))
	page := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, int(lim.Cur), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		report.Line("mmap", err)
		os.Exit(1)
	}
	var rings []int
	pinned, off := 0, 0
	for size := len(mem); size >= page; {
		fd, err := setup(1)
		if err != nil {
			report.Line("ring for buffers", err)
			break
		}
		rings = append(rings, fd)
		if off+size > len(mem) {
			size /= 2
			continue
		}
		if err := register(fd, mem[off:off+size]); err != nil {
			if !errors.Is(err, unix.ENOMEM) {
				report.Line("register", err)
				os.Exit(1)
			}
			size /= 2
			continue
		}
		pinned += size
		off += size
	}
	report.Text("pinned", fmt.Sprint(pinned))
	var last error
	for {
		fd, err := setup(1)
		if err != nil {
			last = err
			break
		}
		rings = append(rings, fd)
	}
	report.Line("last ring", last)
	report.Text("rings", fmt.Sprint(len(rings)))
	if !errors.Is(last, unix.ENOMEM) {
		os.Exit(1) // the budget is not held: the test would prove nothing
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		report.Line("dial", err)
		os.Exit(1)
	}
	fmt.Fprintln(c, "holding")
	// Until the peer hangs up.
	bufio.NewReader(c).ReadString('\n')
	runtime.KeepAlive(rings)
	report.Text("released", "ok")
}

// probe is what a student's program does first: a ring and a NOP.
func probe() {
	runtime.LockOSThread()
	r, err := uring.Setup(uring.Options{Entries: 8})
	report.Line("setup", err)
	if err != nil {
		return
	}
	defer r.Close()
	r.GetSQE().PrepNop()
	if _, err := r.SubmitAndWait(1); err != nil {
		report.Line("nop", err)
		return
	}
	cqe, ok := r.PeekCQE()
	switch {
	case !ok:
		report.Text("nop", "no CQE")
	case cqe.Res < 0:
		report.Line("nop", syscall.Errno(-cqe.Res))
	default:
		report.Text("nop", "ok")
	}
}
