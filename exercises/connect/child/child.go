// Package child is the connect exercise's harness inside the sandbox.
package child

import (
	"fmt"
	"time"

	"github.com/asynclab/asynclab/exercises/connect/wire"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements.
type Handler = func(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error))

// Main runs h against the scenario's listener.
func Main(h Handler) {
	kit.Main(func(e *kit.Env) {
		// A handler may keep its deadline on a timer of its own, off the
		// loop; the grader allows for how late such timers fire.
		e.WatchTimers()
		l := e.Loop
		addr := &sys.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: e.Args.Int("port", 7000)}
		// The handler starts in a callback named after it, so that the
		// timeline and the findings name the student's code, not the
		// harness.
		l.Queue("Connect (your handler)", func() {
			h(l, addr, e.Args.Duration("deadline", 300*time.Millisecond), func(fd int, err error) {
				if err != nil {
					e.Report("error %s", errName(err))
					return
				}
				e.Report("connected")
				probe(e, fd)
			})
		})
	})
}

// probe writes Probe once fd is writable, then closes it. It gives up
// before the run ends, so the descriptor count stays the handler's.
func probe(e *kit.Env, fd int) {
	s, h := e.Loop.Sys(), e.Harness()
	closed := false
	closeFD := func() {
		if !closed {
			closed = true
			s.Close(fd)
		}
	}
	var watch *engine.Watch
	watch, err := h.OnWritable(fd, "harness: probe", func(uint32) {
		watch.Stop()
		s.Write(fd, []byte(wire.Probe))
		closeFD()
	})
	if err != nil {
		closeFD()
		return
	}
	h.AfterFunc("harness: probe gives up", 15*time.Millisecond, func() {
		watch.Stop()
		closeFD()
	})
}

func errName(err error) string {
	switch err {
	case sys.ECONNREFUSED:
		return "ECONNREFUSED"
	case sys.ETIMEDOUT:
		return "ETIMEDOUT"
	case sys.EINPROGRESS:
		return "EINPROGRESS"
	case sys.ECANCELED:
		return "ECANCELED"
	case sys.EALREADY:
		return "EALREADY"
	}
	if e, ok := err.(sys.Errno); ok {
		// Any other errno by its name and what it means:
		// "EAGAIN (resource temporarily unavailable)".
		if name := unix.ErrnoName(e); name != "" {
			return name + " (" + e.Error() + ")"
		}
		return fmt.Sprintf("errno %d (%s)", int(e), e.Error())
	}
	return err.Error()
}
