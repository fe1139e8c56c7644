// Package demo is the built-in workload of `lab run demo`: five 100-byte
// packets, 2 ms apart, received once on epoll and once on io_uring, so the
// difference between readiness and completion shows in the trace.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// The workload.
const (
	Packets    = 5
	PacketSize = 100
	Gap        = 2 * time.Millisecond
)

// Result is one backend's run of the demo.
type Result struct {
	Backend  engine.Kind
	Fallback string // why io_uring was not used, if it was asked for and is missing
	Received int
	Trace    *trace.Trace
}

// Run runs the demo on kind. A trusted peer sends the packets over loopback
// TCP; the handler receives them the way its backend is meant to be used.
func Run(ctx context.Context, kind engine.Kind) (*Result, error) {
	fd, peer, err := pair()
	if err != nil {
		return nil, fmt.Errorf("demo: loopback pair: %w", err)
	}
	defer unix.Close(fd)
	defer peer.Close()

	rec := trace.NewRecorder(0, 1<<16, time.Now())
	l := engine.New(engine.Config{Backend: kind, Fallback: true, Recorder: rec})
	res := &Result{Backend: kind}
	err = l.Run(ctx, "main", func() {
		go send(peer, fd)
		if l.Backend() == engine.Uring {
			receiveCompletion(l, fd, res)
		} else {
			receiveReadiness(l, fd, res)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("demo on %s: %w", kind, err)
	}
	res.Backend, res.Fallback = l.Backend(), l.FallbackReason()
	res.Trace = rec.Snapshot()
	return res, nil
}

// receiveReadiness is the epoll way: wait until the socket is readable, then
// read until EAGAIN, every time it wakes.
func receiveReadiness(l *engine.Loop, fd int, res *Result) {
	s := l.Sys()
	buf := make([]byte, Packets*PacketSize)
	var w *engine.Watch
	w, err := l.OnReadable(fd, "on-readable", func(uint32) {
		for res.Received < len(buf) {
			n, err := s.Read(fd, buf[res.Received:])
			if err == sys.EAGAIN || n <= 0 {
				return
			}
			res.Received += n
		}
		w.Stop()
		l.Stop()
	})
	if err != nil {
		panic(err)
	}
}

// receiveCompletion is the io_uring way: ask for all 500 bytes at once and
// hear back when they are there.
func receiveCompletion(l *engine.Loop, fd int, res *Result) {
	buf := make([]byte, Packets*PacketSize)
	l.Recv(fd, buf, sys.MSG_WAITALL).Then(func(n int, err error) {
		res.Received = n
		l.Stop()
	})
}

// send is the trusted peer. Each packet after the first also waits until
// the handler's socket has no unread data, so that every packet is a
// separate arrival even on a machine too busy to keep the 2 ms pace.
func send(c net.Conn, rfd int) {
	p := bytes.Repeat([]byte{'x'}, PacketSize)
	for i := 0; i < Packets; i++ {
		time.Sleep(Gap)
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
			if q, err := unix.IoctlGetInt(rfd, unix.SIOCINQ); err != nil || q == 0 {
				break
			}
		}
		if _, err := c.Write(p); err != nil {
			return
		}
	}
}

// pair returns a raw non-blocking client socket and the peer's end. The
// client socket is made with unix.Socket so Go's netpoller never sees it.
func pair() (int, net.Conn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return -1, nil, err
	}
	defer ln.Close()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	conn, err := ln.Accept()
	if err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		conn.Close()
		return -1, nil, err
	}
	return fd, conn, nil
}
