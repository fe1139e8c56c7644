// Package child is the readiness exercise's harness inside the sandbox: it
// connects to the trusted peer, tells it to start sending, hands the
// connection to the handler and reports what the handler received.
package child

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/exercises/kit"
	"github.com/asynclab/asynclab/exercises/readiness/wire"
)

// Handler is the signature the student implements.
type Handler = func(l *engine.Loop, fd, size, chunk int, done func(msg []byte, err error))

// burstWait bounds how long the harness waits for an unpaced message to be
// all in the socket before it starts the handler anyway.
const burstWait = 2 * time.Second

// Main runs h on a connection to the scenario's peer.
func Main(h Handler) {
	fd := -1
	kit.MainWithSetup(func(e *kit.Env) error {
		var err error
		fd, err = dial(e.Loop.Sys(), e.Args.Int(wire.ParamPort, 7100))
		return err
	}, func(e *kit.Env) {
		e.Value(wire.ValueFD, float64(fd))
		if e.Args.Duration(wire.ParamGap, 0) > 0 {
			start(e, h, fd)
			return
		}
		// Unpaced: every packet is in the socket before the handler looks,
		// however the machine scheduled the peer's writes.
		began := e.Loop.Now()
		var poll func()
		poll = func() {
			n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
			switch waited := e.Loop.Now() - began; {
			case err == nil && n >= wire.Size:
				e.Value(wire.ValueWaited, float64(waited))
			case err == nil && waited < burstWait:
				e.Harness().AfterFunc("harness: wait for the whole burst", time.Millisecond, poll)
				return
			default:
				e.Value(wire.ValueWaited, -1)
			}
			start(e, h, fd)
		}
		poll()
	})
}

// dial connects to the peer the blocking way, in the harness's own
// callback, tells it to start, and returns the connection, non-blocking,
// for the handler.
func dial(s *sys.Sys, port int) (int, error) {
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := s.Connect(fd, &sys.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		s.Close(fd)
		return -1, fmt.Errorf("connect to the peer on port %d: %w", port, err)
	}
	if err := s.SetNonblock(fd, true); err != nil {
		s.Close(fd)
		return -1, fmt.Errorf("make the socket non-blocking: %w", err)
	}
	// The peer sends nothing before this byte, and its first packet a gap
	// after it: by then the handler, started right after this, listens.
	if _, err := s.Write(fd, []byte{wire.Go}); err != nil {
		s.Close(fd)
		return -1, fmt.Errorf("tell the peer to start: %w", err)
	}
	return fd, nil
}

// start calls the handler in a callback named after it, so that the
// timeline and the findings name the student's code, not the harness.
func start(e *kit.Env, h Handler, fd int) {
	l := e.Loop
	answered := false
	l.Queue("Receive (your handler)", func() {
		h(l, fd, wire.Size, wire.Chunk, func(msg []byte, err error) {
			if err != nil {
				e.Report("error %s", errName(err))
			} else {
				e.Report("%s", wire.Digest(msg))
			}
			if !answered {
				answered = true
				// After the handler's callback has returned: what it does
				// after done (stopping its watch) still finds the socket.
				e.Harness().Queue("harness: close the connection", func() { l.Sys().Close(fd) })
			}
		})
	})
}

func errName(err error) string {
	if e, ok := err.(sys.Errno); ok {
		if name := unix.ErrnoName(e); name != "" {
			return name + " (" + e.Error() + ")"
		}
		return fmt.Sprintf("errno %d (%s)", int(e), e.Error())
	}
	return err.Error()
}
