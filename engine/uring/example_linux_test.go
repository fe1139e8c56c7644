package uring_test

import (
	"fmt"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/uring"
)

// A whole round trip through a ring: set it up (io_uring_setup(2)), take
// an SQE, fill it, submit it and wait for its completion in one
// io_uring_enter(2), then reap the CQE. A NOP does nothing in the kernel,
// so this is the cost of the machinery alone.
func Example() {
	// The ring belongs to this OS thread: a ring set up single-issuer
	// (the default) refuses io_uring_enter from any other.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ring, err := uring.Setup(uring.Options{Entries: 8})
	if err != nil {
		fmt.Println("no io_uring here:", err)
		return
	}
	defer ring.Close()

	sqe := ring.GetSQE()
	sqe.PrepNop()
	sqe.UserData = 42 // comes back in the CQE: how completions find their request

	// A signal can end the wait early, so wait until the CQE is there.
	for ring.CQReady() < 1 {
		if _, err := ring.SubmitAndWait(1); err != nil {
			fmt.Println("enter:", err)
			return
		}
	}
	cqe, _ := ring.PeekCQE()
	ring.Advance(1) // hand the CQE's slot back to the kernel
	fmt.Printf("completion for request %d: res %d\n", cqe.UserData, cqe.Res)
	// Output: completion for request 42: res 0
}

// Completion, not readiness: the READ names the buffer, and its CQE says
// how many bytes the kernel already copied into it. Compare epoll, which
// would only say that the pipe is readable and leave the read(2) to you.
// The buffer must stay alive and unmoved until the CQE is reaped.
func ExampleSQE_PrepRead() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ring, err := uring.Setup(uring.Options{Entries: 8})
	if err != nil {
		fmt.Println("no io_uring here:", err)
		return
	}
	defer ring.Close()

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		fmt.Println("pipe:", err)
		return
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.Write(p[1], []byte("hello, ring"))

	buf := make([]byte, 64)
	sqe := ring.GetSQE()
	sqe.PrepRead(p[0], uintptr(unsafe.Pointer(&buf[0])), uint32(len(buf)), 0)
	sqe.UserData = 1
	// A signal can end the wait early, so wait until the CQE is there.
	for ring.CQReady() < 1 {
		if _, err := ring.SubmitAndWait(1); err != nil {
			fmt.Println("enter:", err)
			return
		}
	}
	cqe, _ := ring.PeekCQE()
	ring.Advance(1)
	runtime.KeepAlive(buf)
	fmt.Printf("read %d bytes: %q\n", cqe.Res, buf[:cqe.Res])
	// Output: read 11 bytes: "hello, ring"
}

// A deadline on one operation: a READ of an empty pipe linked
// (SQEIOLink) to a LINK_TIMEOUT of 10 ms. The timeout fires, cancels the
// read, and both complete: the read with ECANCELED, the timeout with
// ETIME. Each operation gets exactly one CQE, whoever wins.
func ExampleSQE_PrepLinkTimeout() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ring, err := uring.Setup(uring.Options{Entries: 8})
	if err != nil {
		fmt.Println("no io_uring here:", err)
		return
	}
	defer ring.Close()

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		fmt.Println("pipe:", err)
		return
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])

	buf := make([]byte, 64)
	read := ring.GetSQE()
	read.PrepRead(p[0], uintptr(unsafe.Pointer(&buf[0])), uint32(len(buf)), 0)
	read.Flags |= uring.SQEIOLink // the next SQE applies to this one
	read.UserData = 1

	ts := uring.NewTimespec(10 * time.Millisecond)
	timeout := ring.GetSQE()
	timeout.PrepLinkTimeout(&ts, 0)
	timeout.UserData = 2

	for ring.CQReady() < 2 {
		if _, err := ring.SubmitAndWait(2 - ring.CQReady()); err != nil {
			fmt.Println("enter:", err)
			return
		}
	}
	cqes := make([]uring.CQE, 2)
	n := ring.Reap(cqes)
	runtime.KeepAlive(buf)
	runtime.KeepAlive(&ts)
	// The two CQEs may arrive in either order; sort them for printing.
	cqes = cqes[:n]
	slices.SortFunc(cqes, func(a, b uring.CQE) int { return int(a.UserData) - int(b.UserData) })
	for _, c := range cqes {
		fmt.Printf("request %d: %v\n", c.UserData, unix.ErrnoName(unix.Errno(-c.Res)))
	}
	// Output:
	// request 1: ECANCELED
	// request 2: ETIME
}

// Check says whether io_uring can be used here and, if not, why: the
// kernel.io_uring_disabled sysctl, a seccomp filter (as in most container
// runtimes' default profile), or a kernel too old for the opcodes the lab
// needs.
func ExampleCheck() {
	st := uring.Check()
	if !st.Available {
		fmt.Println("io_uring unavailable:", st.Reason)
		return
	}
	fmt.Println("io_uring available")
}
