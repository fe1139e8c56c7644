package engine_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// listener is a raw TCP listener on 127.0.0.1 that the test controls: it
// can accept at once, or never, with a chosen backlog.
type listener struct {
	fd   int
	port int
}

func newListener(t *testing.T, backlog int) *listener {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return &listener{fd: fd, port: sa.(*unix.SockaddrInet4).Port}
}

func (ln *listener) addr() *sys.SockaddrInet4 {
	return &sys.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: ln.port}
}

// fill makes the listener's accept queue full, so that the kernel drops
// the next SYN and a connect to it stays pending.
func (ln *listener) fill(t *testing.T) {
	t.Helper()
	for i := 0; i < 8; i++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		unix.Connect(fd, ln.addr())
	}
	time.Sleep(50 * time.Millisecond) // let the handshakes that can finish, finish
}

// closedPort returns a loopback port with nothing listening.
func closedPort(t *testing.T) *sys.SockaddrInet4 {
	t.Helper()
	ln := newListener(t, 1)
	addr := ln.addr()
	unix.Close(ln.fd)
	return addr
}

// connectResult runs an op-style connect with a deadline on the handler's
// own timer, and returns the outcome the handler saw.
func connectResult(t *testing.T, kind engine.Kind, addr *sys.SockaddrInet4, deadline time.Duration) (error, *trace.Trace) {
	l := newLoop(t, kind)
	var outcome error = errors.New("handler never reported")
	tr := run(t, l, func() {
		s := l.Sys()
		fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK|sys.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		op := l.Connect(fd, addr)
		timer := l.AfterFunc("deadline", deadline, op.Cancel)
		op.Then(func(_ int, err error) {
			timer.Stop()
			outcome = err
			s.Close(fd)
			l.Stop()
		})
	})
	return outcome, tr
}

func TestConnect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		t.Run("listener", func(t *testing.T) {
			ln := newListener(t, 16)
			err, _ := connectResult(t, kind, ln.addr(), 5*time.Second)
			if err != nil {
				t.Errorf("connect to a listener = %v, want success", err)
			}
			nfd, _, aerr := unix.Accept4(ln.fd, unix.SOCK_NONBLOCK)
			if aerr != nil {
				t.Errorf("the listener saw no connection: accept4 = %v", aerr)
			} else {
				unix.Close(nfd)
			}
		})
		t.Run("closed-port", func(t *testing.T) {
			err, _ := connectResult(t, kind, closedPort(t), 5*time.Second)
			if !errors.Is(err, sys.ECONNREFUSED) {
				t.Errorf("connect to a closed port = %v, want ECONNREFUSED", err)
			}
		})
		t.Run("full-accept-queue", func(t *testing.T) {
			ln := newListener(t, 0)
			ln.fill(t)
			err, tr := connectResult(t, kind, ln.addr(), 100*time.Millisecond)
			if !errors.Is(err, sys.ECANCELED) {
				t.Fatalf("connect to a full listener = %v, want ECANCELED from the handler's own deadline", err)
			}
			// Causal check: the outcome came after the deadline timer fired.
			var fired, done int64 = -1, -1
			for _, e := range tr.Events {
				if e.Kind == trace.KindTimer && e.Phase == trace.PhaseFire && tr.Name(e.Name) == "deadline" {
					fired = e.Time
				}
				if e.Kind == trace.KindComplete && tr.Name(e.Name) == "CONNECT" {
					done = e.Time
				}
			}
			if fired < 0 || done < fired {
				t.Errorf("deadline fired at %d, connect completed at %d: want the deadline first", fired, done)
			}
		})
	})
}

// sendPackets writes n packets of size bytes, gap apart, from a trusted
// peer goroutine.
// Each packet after the first waits until the receiver has taken the one
// before out of its socket buffer, so every packet is a separate arrival
// even when a loaded machine delays the loop by more than the gap.
func sendPackets(conn net.Conn, rfd, n, size int, gap time.Duration) {
	p := bytes.Repeat([]byte{'x'}, size)
	for i := 0; i < n; i++ {
		time.Sleep(gap)
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
			if q, err := unix.IoctlGetInt(rfd, unix.SIOCINQ); err != nil || q == 0 {
				break
			}
		}
		conn.Write(p)
	}
}

// loopbackPair returns a raw non-blocking client fd connected to a Go
// net.Conn server side.
func loopbackPair(t *testing.T) (int, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fd, true)
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); unix.Close(fd) })
	return fd, conn
}

func count(tr *trace.Trace, kind trace.Kind, name string) int {
	n := 0
	for _, e := range tr.Events {
		if e.Kind == kind && (name == "" || tr.Name(e.Name) == name) {
			n++
		}
	}
	return n
}

func TestFivePackets(t *testing.T) {
	wantWakeups := map[engine.Kind]int{engine.Epoll: 5, engine.Uring: 1}
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		fd, conn := loopbackPair(t)
		l := newLoop(t, kind)
		var got int
		tr := run(t, l, func() {
			buf := make([]byte, 500)
			l.Recv(fd, buf, sys.MSG_WAITALL).Then(func(n int, err error) {
				got = n
				l.Stop()
			})
			go sendPackets(conn, fd, 5, 100, 2*time.Millisecond)
		})
		if got != 500 {
			t.Fatalf("RECV MSG_WAITALL = %d bytes, want 500", got)
		}
		if n := count(tr, trace.KindWakeup, ""); n != wantWakeups[kind] {
			t.Errorf("%s wakeups = %d, want %d", kind, n, wantWakeups[kind])
		}
		if n := count(tr, trace.KindComplete, "RECV"); n != 1 {
			t.Errorf("RECV completions = %d, want 1", n)
		}
	})
}

func TestReadWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		t.Run("pipe", func(t *testing.T) {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
			l := newLoop(t, kind)
			buf := make([]byte, 5)
			var n int
			run(t, l, func() {
				l.Read(p[0], buf, -1).Then(func(k int, err error) {
					if err != nil {
						t.Errorf("read = %v", err)
					}
					n = k
					l.Stop()
				})
				l.AfterFunc("writer", 5*time.Millisecond, func() { l.Write(p[1], []byte("hello"), -1) })
			})
			if string(buf[:n]) != "hello" {
				t.Errorf("pipe read = %q, want %q", buf[:n], "hello")
			}
		})
		t.Run("socket", func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
			l := newLoop(t, kind)
			buf := make([]byte, 4)
			run(t, l, func() {
				l.Recv(fds[1], buf, sys.MSG_WAITALL).Then(func(int, error) { l.Stop() })
				l.Send(fds[0], []byte("ping"), 0)
			})
			if string(buf) != "ping" {
				t.Errorf("socket recv = %q, want %q", buf, "ping")
			}
		})
		t.Run("file", func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "data"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			l := newLoop(t, kind)
			buf := make([]byte, 11)
			run(t, l, func() {
				l.Write(fd, []byte("hello world"), 0).Then(func(n int, err error) {
					if err != nil || n != 11 {
						t.Errorf("file write = %d, %v; want 11, nil", n, err)
					}
					l.Read(fd, buf, 0).Then(func(int, error) { l.Stop() })
				})
			})
			if string(buf) != "hello world" {
				t.Errorf("file read = %q, want %q", buf, "hello world")
			}
		})
	})
}
