package enginebench

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// Servers returns the built-in echo servers in the order the echo runs
// them: our loop on epoll and on io_uring, Go's net, and our two loops
// again with tracing on.
func Servers() []Server {
	return []Server{
		LoopServer(ServerEpoll, engine.Epoll, false),
		LoopServer(ServerUring, engine.Uring, false),
		{Name: ServerNet, Serve: serveNet},
		LoopServer(ServerEpollTraced, engine.Epoll, true),
		LoopServer(ServerUringTraced, engine.Uring, true),
	}
}

// LoopServer returns an echo server written on our loop with the op API:
// an Accept that resubmits itself, and per connection a Recv of exactly one
// message (MSG_WAITALL), a Send of it, and the Recv again, all reused with
// OnDone and Resubmit so that an echo allocates nothing.
//
// With traced the recorder stays on and a goroutine drains it every
// millisecond, as the lab's trace streamer does. That goroutine gets a P of
// its own (GOMAXPROCS=2, still on the one pinned CPU): with a single P it
// would run only when the runtime preempts the loop, about every 10 ms,
// the 64 Ki-event ring would overflow, and dropped events would make
// tracing look cheaper than it is.
func LoopServer(name string, backend engine.Kind, traced bool) Server {
	s := Server{Name: name, Procs: 1, Serve: func(ctx context.Context, cfg ServeConfig) error {
		return serveLoop(ctx, backend, traced, cfg)
	}}
	if traced {
		s.Procs = 2
	}
	return s
}

// Listen returns a non-blocking TCP listener on 127.0.0.1:port with
// SO_REUSEADDR and TCP_NODELAY (which accepted sockets inherit).
func Listen(port int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setsockopt SO_REUSEADDR: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setsockopt TCP_NODELAY: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind 127.0.0.1:%d: %w", port, err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen: %w", err)
	}
	return fd, nil
}

func serveLoop(ctx context.Context, backend engine.Kind, traced bool, cfg ServeConfig) error {
	lfd, err := Listen(cfg.Port)
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	rec.SetEnabled(traced)
	l := engine.New(engine.Config{Backend: backend, TrustHandlers: true, Recorder: rec})
	cfg.Stats.SetLoopCPU(func() int64 { return loopThreadCPU(l) })
	if traced {
		stop := drainRecorder(rec, cfg.Stats)
		defer stop()
	}
	var acceptErr error
	err = l.Run(ctx, "echo", func() {
		l.Accept(lfd, sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC).OnDone(func(op *engine.Op) {
			fd, err := op.Result()
			if err != nil {
				acceptErr = fmt.Errorf("accept: %w", err)
				l.Stop()
				return
			}
			c := &echoConn{l: l, fd: fd, buf: make([]byte, cfg.MsgSize)}
			c.recv = l.Recv(fd, c.buf, sys.MSG_WAITALL).OnDone(c.received)
			op.Resubmit()
		})
	})
	if acceptErr != nil {
		return acceptErr
	}
	return err
}

// loopThreadCPU reads the CPU time of l's thread on that thread, through a
// posted callback. It returns -1 if the loop has stopped or does not answer
// within a few seconds.
func loopThreadCPU(l *engine.Loop) int64 {
	ch := make(chan int64, 1)
	if !l.Post("bench-cpu-mark", func() { ch <- ThreadCPU() }) {
		return -1
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case v := <-ch:
		return v
	case <-t.C:
		return -1
	}
}

// echoConn is one connection of the loop server. Its two ops are created
// once and resubmitted for every echo.
type echoConn struct {
	l    *engine.Loop
	fd   int
	buf  []byte
	recv *engine.Op
	send *engine.Op
}

func (c *echoConn) received(op *engine.Op) {
	n, err := op.Result()
	if err != nil || n < len(c.buf) {
		// The peer closed (n == 0) or broke off mid-message.
		c.l.Sys().Close(c.fd)
		return
	}
	if c.send == nil {
		c.send = c.l.Send(c.fd, c.buf, 0).OnDone(c.sent)
		return
	}
	c.send.Resubmit()
}

func (c *echoConn) sent(op *engine.Op) {
	n, err := op.Result()
	if err != nil {
		c.l.Sys().Close(c.fd)
		return
	}
	if n < len(c.buf) {
		// A short send on a loopback socket with room to spare does not
		// happen in this benchmark; finishing the message with a fresh op
		// keeps the echo correct if it ever does.
		rest := c.buf[n:]
		c.l.Send(c.fd, rest, 0).OnDone(func(op2 *engine.Op) {
			if m, err := op2.Result(); err != nil || m < len(rest) {
				c.l.Sys().Close(c.fd)
				return
			}
			c.recv.Resubmit()
		})
		return
	}
	c.recv.Resubmit()
}

// serveNet is the Go net baseline: a goroutine per connection that reads
// one whole message and writes it back.
func serveNet(ctx context.Context, cfg ServeConfig) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	defer ln.Close()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, cfg.MsgSize)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}
