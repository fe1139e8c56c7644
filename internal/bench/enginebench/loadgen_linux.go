package enginebench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Load is the echo load generator: raw level-triggered epoll on one
// thread, a fixed set of non-blocking connections, and a closed loop on
// each: send one message, wait for all of it to come back, check it byte
// for byte, record the latency, send the next. It does not use Go's net
// package, so the runtime's netpoller plays no part on the client side.
// Its methods must be called from one goroutine locked to its OS thread.
type Load struct {
	epfd    int
	size    int
	conns   []loadConn
	byFd    []int32 // fd -> index into conns, or -1
	events  []unix.EpollEvent
	base    time.Time
	running bool

	Hist       Hist   // latency of each echo, send to last byte received
	Echoes     uint64 // echoes completed since the last Reset
	Mismatches uint64 // echoes that differed from what was sent
	// FirstMismatch describes the first mismatch, for the error message.
	FirstMismatch string
}

type loadConn struct {
	fd     int
	id     uint32
	seq    uint64
	msg    []byte
	rbuf   []byte
	got    int // bytes of the echo received
	wrote  int // bytes of msg written
	sentAt time.Duration
	closed bool
}

// NewLoad connects conns sockets to 127.0.0.1:port. It retries refused
// connects for up to wait, so that it can be started together with the
// server.
func NewLoad(port, conns, msgSize int, wait time.Duration) (*Load, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	g := &Load{epfd: epfd, size: msgSize, events: make([]unix.EpollEvent, conns), base: time.Now()}
	deadline := time.Now().Add(wait)
	for i := range conns {
		fd, err := dial(port, deadline)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		for len(g.byFd) <= fd {
			g.byFd = append(g.byFd, -1)
		}
		g.byFd[fd] = int32(len(g.conns))
		g.conns = append(g.conns, loadConn{fd: fd, id: uint32(i), msg: make([]byte, msgSize), rbuf: make([]byte, msgSize)})
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			g.Close()
			return nil, fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	return g, nil
}

// dial makes one blocking connect, retried while refused, and returns the
// socket non-blocking with TCP_NODELAY.
func dial(port int, deadline time.Time) (int, error) {
	for {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("socket: %w", err)
		}
		err = unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
		for err == unix.EINTR {
			// A connect interrupted by a signal goes on in the background;
			// a second one reports how it ended.
			err = unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
			if err == unix.EISCONN || err == unix.EALREADY {
				err = nil
			}
		}
		if err == nil {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
				unix.Close(fd)
				return -1, fmt.Errorf("setsockopt TCP_NODELAY: %w", err)
			}
			if err := unix.SetNonblock(fd, true); err != nil {
				unix.Close(fd)
				return -1, fmt.Errorf("set non-blocking: %w", err)
			}
			return fd, nil
		}
		unix.Close(fd)
		if err != unix.ECONNREFUSED || time.Now().After(deadline) {
			return -1, fmt.Errorf("connect 127.0.0.1:%d: %w", port, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Close closes every connection.
func (g *Load) Close() error {
	for i := range g.conns {
		if !g.conns[i].closed {
			unix.Close(g.conns[i].fd)
			g.conns[i].closed = true
		}
	}
	return unix.Close(g.epfd)
}

// Reset clears the counters and the histogram; connections keep going.
func (g *Load) Reset() {
	g.Hist.Reset()
	g.Echoes, g.Mismatches = 0, 0
}

func (g *Load) now() time.Duration { return time.Since(g.base) }

// Run drives the closed loop for d. The first call sends the first message
// on every connection; later calls carry on where the previous one
// stopped, with the messages then in flight.
func (g *Load) Run(d time.Duration) error {
	if !g.running {
		g.running = true
		for i := range g.conns {
			if err := g.send(&g.conns[i], true); err != nil {
				return err
			}
		}
	}
	end := g.now() + d
	for g.now() < end {
		n, err := unix.EpollWait(g.epfd, g.events, 10)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range g.events[:n] {
			c := &g.conns[g.byFd[ev.Fd]]
			if ev.Events&unix.EPOLLOUT != 0 && c.wrote < g.size {
				if err := g.send(c, false); err != nil {
					return err
				}
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				if err := g.receive(c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// receive reads what has arrived of c's echo and, when it is complete,
// checks it and sends the next message.
func (g *Load) receive(c *loadConn) error {
	n, err := unix.Read(c.fd, c.rbuf[c.got:])
	switch {
	case err == unix.EAGAIN:
		return nil
	case err != nil:
		return fmt.Errorf("read from server: %w", err)
	case n == 0:
		return errors.New("server closed a connection")
	}
	c.got += n
	if c.got < g.size {
		return nil
	}
	g.Hist.Record(g.now() - c.sentAt)
	g.Echoes++
	if !bytes.Equal(c.rbuf, c.msg) {
		if g.Mismatches == 0 {
			g.FirstMismatch = fmt.Sprintf("connection %d message %d: got % x, want % x", c.id, c.seq, c.rbuf, c.msg)
		}
		g.Mismatches++
	}
	return g.send(c, true)
}

// send writes c's message; with next it first makes the next message. A
// message that does not fit is finished when the socket becomes writable.
func (g *Load) send(c *loadConn, next bool) error {
	if next {
		c.seq++
		c.got, c.wrote = 0, 0
		fill(c.msg, c.id, c.seq)
		c.sentAt = g.now()
	}
	n, err := unix.Write(c.fd, c.msg[c.wrote:])
	if err != nil && err != unix.EAGAIN {
		return fmt.Errorf("write to server: %w", err)
	}
	if n > 0 {
		c.wrote += n
	}
	want := uint32(unix.EPOLLIN)
	if c.wrote < g.size {
		want |= unix.EPOLLOUT
	}
	if want != unix.EPOLLIN || !next {
		if err := unix.EpollCtl(g.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: want, Fd: int32(c.fd)}); err != nil {
			return fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	return nil
}

// fill writes a message that differs in every byte from one sequence
// number to the next, so that a stale or misplaced buffer is caught.
func fill(p []byte, id uint32, seq uint64) {
	var hdr [12]byte
	binary.LittleEndian.PutUint64(hdr[:8], seq)
	binary.LittleEndian.PutUint32(hdr[8:], id)
	n := copy(p, hdr[:])
	x := byte(seq*31 + uint64(id)*7)
	for i := n; i < len(p); i++ {
		p[i] = x + byte(i)
	}
}
