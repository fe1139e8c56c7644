package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// NetNS is the network namespace of a running box, as seen by the
// server's trusted peers ([Spec].Peers). Sockets made through it live in
// the box's namespace, where the program can reach them over loopback; the
// server's own sockets stay out of the box's reach. It is safe for
// concurrent use.
type NetNS struct {
	reqs  chan func()
	done  chan struct{}
	ready chan struct{}
	err   error // why the worker could not join the namespace

	readyOnce sync.Once
	mu        sync.Mutex
	closed    bool
	closers   []io.Closer
}

// errNetNSClosed is returned once the program has ended.
var errNetNSClosed = errors.New("sandbox: the box's network namespace is closed")

// newNetNS starts the thread that lives in the network namespace fd
// refers to. The thread is locked and never unlocked, so the runtime
// discards it, namespace and all, when the NetNS closes.
func newNetNS(fd int) *NetNS {
	ns := &NetNS{reqs: make(chan func()), done: make(chan struct{}), ready: make(chan struct{})}
	joined := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ns.err = os.NewSyscallError("setns", err)
		}
		close(joined)
		for {
			select {
			case fn := <-ns.reqs:
				fn()
			case <-ns.done:
				return
			}
		}
	}()
	<-joined
	return ns
}

// Do runs fn on a thread inside the box's network namespace and returns
// its error. Sockets fn creates belong to that namespace for their whole
// life; fn must not start goroutines that create sockets.
func (ns *NetNS) Do(fn func() error) error {
	if ns.err != nil {
		return ns.err
	}
	res := make(chan error, 1)
	select {
	case ns.reqs <- func() { res <- fn() }:
		return <-res
	case <-ns.done:
		return errNetNSClosed
	}
}

// Listen opens a listener in the box's network namespace, for example
// ns.Listen("tcp", "127.0.0.1:7000"). It is closed when the program ends.
func (ns *NetNS) Listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.Do(func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, ns.track(l)
}

// Dial connects from the box's network namespace, for example to a
// listener of the program's. The connection is closed when the program
// ends.
func (ns *NetNS) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, ns.track(c)
}

// Ready lets the program start: Run execs it only after the peer has
// called Ready or returned. Calling it again does nothing.
func (ns *NetNS) Ready() {
	ns.readyOnce.Do(func() { close(ns.ready) })
}

// track remembers c to close it with ns.
func (ns *NetNS) track(c io.Closer) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		c.Close()
		return errNetNSClosed
	}
	ns.closers = append(ns.closers, c)
	return nil
}

// close closes the tracked sockets and ends the namespace's thread.
func (ns *NetNS) close() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		return
	}
	ns.closed = true
	for _, c := range ns.closers {
		c.Close()
	}
	close(ns.done)
}

// runPeers calls peers in a goroutine and returns the channel its error
// arrives on. A panic in the peer is its error, not the server's crash.
func runPeers(ctx context.Context, ns *NetNS, peers func(context.Context, *NetNS) error) <-chan error {
	out := make(chan error, 1)
	go func() {
		defer ns.Ready()
		defer func() {
			if p := recover(); p != nil {
				out <- fmt.Errorf("sandbox: peer panicked: %v", p)
			}
		}()
		out <- peers(ctx, ns)
	}()
	return out
}
