package sys

import (
	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/trace"
)

// Types shared with golang.org/x/sys/unix, so that code written here reads
// the same as code written against unix directly.
type (
	Errno         = unix.Errno
	Sockaddr      = unix.Sockaddr
	SockaddrInet4 = unix.SockaddrInet4
	SockaddrInet6 = unix.SockaddrInet6
	SockaddrUnix  = unix.SockaddrUnix
	EpollEvent    = unix.EpollEvent
)

// Constants handlers need, with their unix names.
const (
	AF_INET       = unix.AF_INET
	AF_INET6      = unix.AF_INET6
	AF_UNIX       = unix.AF_UNIX
	SOCK_STREAM   = unix.SOCK_STREAM
	SOCK_DGRAM    = unix.SOCK_DGRAM
	SOCK_NONBLOCK = unix.SOCK_NONBLOCK
	SOCK_CLOEXEC  = unix.SOCK_CLOEXEC
	SOL_SOCKET    = unix.SOL_SOCKET
	SO_ERROR      = unix.SO_ERROR
	SO_REUSEADDR  = unix.SO_REUSEADDR
	SO_RCVBUF     = unix.SO_RCVBUF
	SO_SNDBUF     = unix.SO_SNDBUF
	IPPROTO_TCP   = unix.IPPROTO_TCP
	TCP_NODELAY   = unix.TCP_NODELAY
	MSG_WAITALL   = unix.MSG_WAITALL
	MSG_DONTWAIT  = unix.MSG_DONTWAIT
	MSG_NOSIGNAL  = unix.MSG_NOSIGNAL
	SHUT_WR       = unix.SHUT_WR
	SHUT_RDWR     = unix.SHUT_RDWR
	O_NONBLOCK    = unix.O_NONBLOCK
	O_CLOEXEC     = unix.O_CLOEXEC
	EFD_NONBLOCK  = unix.EFD_NONBLOCK
	EFD_CLOEXEC   = unix.EFD_CLOEXEC
	EPOLLIN       = unix.EPOLLIN
	EPOLLOUT      = unix.EPOLLOUT
	EPOLLERR      = unix.EPOLLERR
	EPOLLHUP      = unix.EPOLLHUP
	EPOLLRDHUP    = unix.EPOLLRDHUP
	EPOLLET       = unix.EPOLLET
	EPOLLONESHOT  = unix.EPOLLONESHOT
	EPOLL_CTL_ADD = unix.EPOLL_CTL_ADD
	EPOLL_CTL_MOD = unix.EPOLL_CTL_MOD
	EPOLL_CTL_DEL = unix.EPOLL_CTL_DEL
	EPOLL_CLOEXEC = unix.EPOLL_CLOEXEC
	POLLIN        = unix.POLLIN
	POLLOUT       = unix.POLLOUT
	POLLERR       = unix.POLLERR
	POLLHUP       = unix.POLLHUP

	EAGAIN       = unix.EAGAIN
	EINTR        = unix.EINTR
	EINPROGRESS  = unix.EINPROGRESS
	EALREADY     = unix.EALREADY
	EISCONN      = unix.EISCONN
	ECONNREFUSED = unix.ECONNREFUSED
	ECONNRESET   = unix.ECONNRESET
	ETIMEDOUT    = unix.ETIMEDOUT
	ETIME        = unix.ETIME
	ECANCELED    = unix.ECANCELED
	EBADF        = unix.EBADF
	ENOENT       = unix.ENOENT
	EPIPE        = unix.EPIPE
	ENOTCONN     = unix.ENOTCONN
	EINVAL       = unix.EINVAL
	EPERM        = unix.EPERM
)

// SizeofSockaddrAny is the size of the largest socket address.
const SizeofSockaddrAny = unix.SizeofSockaddrAny

// Sys is the set of traced system calls bound to one loop's recorder.
// Its methods are safe for concurrent use; calls made off the loop thread
// are recorded too, through the recorder's foreign queue.
type Sys struct {
	rec    *trace.Recorder
	onLoop func() bool
	names  [callMax]trace.NameID
}

type call uint8

const (
	callSocket call = iota
	callConnect
	callBind
	callListen
	callAccept4
	callGetsockopt
	callSetsockopt
	callRead
	callWrite
	callRecvfrom
	callSendto
	callPread
	callPwrite
	callClose
	callPipe2
	callEventfd
	callEpollCreate1
	callEpollCtl
	callEpollWait
	callGetsockname
	callGetpeername
	callShutdown
	callSetNonblock
	callMax
)

var callNames = [callMax]string{
	callSocket: "socket", callConnect: "connect", callBind: "bind", callListen: "listen",
	callAccept4: "accept4", callGetsockopt: "getsockopt", callSetsockopt: "setsockopt",
	callRead: "read", callWrite: "write", callRecvfrom: "recvfrom", callSendto: "sendto",
	callPread: "pread", callPwrite: "pwrite", callClose: "close", callPipe2: "pipe2",
	callEventfd: "eventfd", callEpollCreate1: "epoll_create1", callEpollCtl: "epoll_ctl",
	callEpollWait: "epoll_wait", callGetsockname: "getsockname", callGetpeername: "getpeername",
	callShutdown: "shutdown", callSetNonblock: "fcntl",
}

// New returns wrappers that record into rec. onLoop reports whether the
// caller runs on the loop's thread, which decides how an event is recorded.
func New(rec *trace.Recorder, onLoop func() bool) *Sys {
	s := &Sys{rec: rec, onLoop: onLoop}
	for i, n := range callNames {
		s.names[i] = rec.Intern(n)
	}
	return s
}

// record writes one syscall event. fd is the descriptor the call acted on,
// res its result, err its error; a and b are call-specific arguments. It
// returns when the call ended.
func (s *Sys) record(c call, start int64, fd int, res int, err error, a, b int64) int64 {
	return s.recordOn(s.onLoop(), c, start, fd, res, err, a, b)
}

func (s *Sys) recordOn(onLoop bool, c call, start int64, fd int, res int, err error, a, b int64) int64 {
	end := s.rec.Now()
	r := int64(res)
	if err != nil {
		if e, ok := err.(unix.Errno); ok {
			r = -int64(e)
		} else {
			r = -int64(unix.EINVAL)
		}
	}
	e := trace.Event{Kind: trace.KindSyscall, Time: start, Dur: end - start, Name: s.names[c],
		Fd: int32(fd), Res: r, Arg0: a, Arg1: b}
	if onLoop {
		s.rec.Emit(e)
	} else {
		s.rec.EmitForeign(e)
	}
	return end
}

// begin starts a call that can put the thread to sleep. On the loop thread
// it records the call's begin and publishes it before the call is made, so
// that the reader of the trace sees a loop stuck in the call while it is
// stuck, and a trace cut off then still holds it. It returns the start time
// and whether the caller is on the loop thread, for [Sys.recordOn].
//
// Publishing is the recorder's Flush: one atomic store (and a load of the
// foreign-queue flag), tens of nanoseconds next to the hundreds the cheapest
// system call costs (BenchmarkTracedRead). It is done on every such call,
// watchdog or not: the lab always runs one, and a live viewer needs the
// begin while the loop is stuck, before any watchdog fires. Off the loop the
// begin is not recorded: such a call does not hold up the loop, and only
// the loop thread may publish.
func (s *Sys) begin(c call, fd int) (start int64, onLoop bool) {
	onLoop = s.onLoop()
	start = s.rec.Now()
	if onLoop && s.rec.Enabled() {
		s.rec.Emit(trace.Event{Kind: trace.KindSyscall, Phase: trace.PhaseBegin, Time: start,
			Name: s.names[c], Fd: int32(fd)})
		s.rec.Flush()
	}
	return start, onLoop
}

// Socket is unix.Socket.
func (s *Sys) Socket(domain, typ, proto int) (fd int, err error) {
	t := s.rec.Now()
	fd, err = unix.Socket(domain, typ, proto)
	s.record(callSocket, t, fd, fd, err, int64(domain), int64(typ))
	return fd, err
}

// Connect is unix.Connect. On a non-blocking socket it usually returns
// EINPROGRESS: the handshake has started, not failed.
func (s *Sys) Connect(fd int, sa Sockaddr) error {
	t, on := s.begin(callConnect, fd)
	err := unix.Connect(fd, sa)
	s.recordOn(on, callConnect, t, fd, 0, err, sockaddrPort(sa), 0)
	return err
}

// Bind is unix.Bind.
func (s *Sys) Bind(fd int, sa Sockaddr) error {
	t := s.rec.Now()
	err := unix.Bind(fd, sa)
	s.record(callBind, t, fd, 0, err, sockaddrPort(sa), 0)
	return err
}

// Listen is unix.Listen.
func (s *Sys) Listen(fd int, backlog int) error {
	t := s.rec.Now()
	err := unix.Listen(fd, backlog)
	s.record(callListen, t, fd, 0, err, int64(backlog), 0)
	return err
}

// Accept4 is unix.Accept4.
func (s *Sys) Accept4(fd int, flags int) (nfd int, sa Sockaddr, err error) {
	t, on := s.begin(callAccept4, fd)
	nfd, sa, err = unix.Accept4(fd, flags)
	s.recordOn(on, callAccept4, t, fd, nfd, err, int64(flags), 0)
	return nfd, sa, err
}

// GetsockoptInt is unix.GetsockoptInt. Arg0 of its event is the option, so
// the trace shows when SO_ERROR was read.
func (s *Sys) GetsockoptInt(fd, level, opt int) (value int, err error) {
	t := s.rec.Now()
	value, err = unix.GetsockoptInt(fd, level, opt)
	s.record(callGetsockopt, t, fd, value, err, int64(opt), int64(level))
	return value, err
}

// SetsockoptInt is unix.SetsockoptInt.
func (s *Sys) SetsockoptInt(fd, level, opt int, value int) error {
	t := s.rec.Now()
	err := unix.SetsockoptInt(fd, level, opt, value)
	s.record(callSetsockopt, t, fd, value, err, int64(opt), int64(level))
	return err
}

// Getsockname is unix.Getsockname.
func (s *Sys) Getsockname(fd int) (Sockaddr, error) {
	t := s.rec.Now()
	sa, err := unix.Getsockname(fd)
	s.record(callGetsockname, t, fd, 0, err, sockaddrPort(sa), 0)
	return sa, err
}

// Getpeername is unix.Getpeername.
func (s *Sys) Getpeername(fd int) (Sockaddr, error) {
	t := s.rec.Now()
	sa, err := unix.Getpeername(fd)
	s.record(callGetpeername, t, fd, 0, err, sockaddrPort(sa), 0)
	return sa, err
}

// Shutdown is unix.Shutdown.
func (s *Sys) Shutdown(fd, how int) error {
	t := s.rec.Now()
	err := unix.Shutdown(fd, how)
	s.record(callShutdown, t, fd, 0, err, int64(how), 0)
	return err
}

// SetNonblock is unix.SetNonblock.
func (s *Sys) SetNonblock(fd int, nonblocking bool) error {
	t := s.rec.Now()
	err := unix.SetNonblock(fd, nonblocking)
	var a int64
	if nonblocking {
		a = 1
	}
	s.record(callSetNonblock, t, fd, 0, err, a, 0)
	return err
}

// Read is unix.Read.
func (s *Sys) Read(fd int, p []byte) (n int, err error) {
	t, on := s.begin(callRead, fd)
	n, err = unix.Read(fd, p)
	s.recordOn(on, callRead, t, fd, n, err, int64(len(p)), 0)
	return n, err
}

// Write is unix.Write.
func (s *Sys) Write(fd int, p []byte) (n int, err error) {
	t, on := s.begin(callWrite, fd)
	n, err = unix.Write(fd, p)
	s.recordOn(on, callWrite, t, fd, n, err, int64(len(p)), 0)
	return n, err
}

// Recvfrom is unix.Recvfrom.
func (s *Sys) Recvfrom(fd int, p []byte, flags int) (n int, from Sockaddr, err error) {
	t, on := s.begin(callRecvfrom, fd)
	n, from, err = unix.Recvfrom(fd, p, flags)
	s.recordOn(on, callRecvfrom, t, fd, n, err, int64(len(p)), int64(flags))
	return n, from, err
}

// Sendto is unix.Sendto. It returns only an error, like unix.Sendto; the
// event records the length sent.
func (s *Sys) Sendto(fd int, p []byte, flags int, to Sockaddr) error {
	t, on := s.begin(callSendto, fd)
	err := unix.Sendto(fd, p, flags, to)
	s.recordOn(on, callSendto, t, fd, len(p), err, int64(len(p)), int64(flags))
	return err
}

// Pread is unix.Pread.
func (s *Sys) Pread(fd int, p []byte, offset int64) (n int, err error) {
	t, on := s.begin(callPread, fd)
	n, err = unix.Pread(fd, p, offset)
	s.recordOn(on, callPread, t, fd, n, err, int64(len(p)), offset)
	return n, err
}

// Pwrite is unix.Pwrite.
func (s *Sys) Pwrite(fd int, p []byte, offset int64) (n int, err error) {
	t, on := s.begin(callPwrite, fd)
	n, err = unix.Pwrite(fd, p, offset)
	s.recordOn(on, callPwrite, t, fd, n, err, int64(len(p)), offset)
	return n, err
}

// Close is unix.Close.
func (s *Sys) Close(fd int) error {
	t := s.rec.Now()
	err := unix.Close(fd)
	s.record(callClose, t, fd, 0, err, 0, 0)
	return err
}

// Pipe2 is unix.Pipe2.
func (s *Sys) Pipe2(p []int, flags int) error {
	t := s.rec.Now()
	err := unix.Pipe2(p, flags)
	fd := -1
	if err == nil && len(p) == 2 {
		fd = p[0]
	}
	var w int64 = -1
	if err == nil && len(p) == 2 {
		w = int64(p[1])
	}
	s.record(callPipe2, t, fd, 0, err, w, int64(flags))
	return err
}

// Eventfd is unix.Eventfd.
func (s *Sys) Eventfd(initval uint, flags int) (fd int, err error) {
	t := s.rec.Now()
	fd, err = unix.Eventfd(initval, flags)
	s.record(callEventfd, t, fd, fd, err, int64(initval), int64(flags))
	return fd, err
}

// EpollCreate1 is unix.EpollCreate1.
func (s *Sys) EpollCreate1(flag int) (fd int, err error) {
	t := s.rec.Now()
	fd, err = unix.EpollCreate1(flag)
	s.record(callEpollCreate1, t, fd, fd, err, int64(flag), 0)
	return fd, err
}

// EpollCtl is unix.EpollCtl. The event records the target fd, the op in
// Arg0 and the event mask in Arg1.
func (s *Sys) EpollCtl(epfd int, op int, fd int, event *EpollEvent) error {
	t := s.rec.Now()
	err := unix.EpollCtl(epfd, op, fd, event)
	var mask int64
	if event != nil {
		mask = int64(event.Events)
	}
	s.record(callEpollCtl, t, fd, 0, err, int64(op), mask)
	return err
}

// EpollWait is unix.EpollWait. Each entry it returns is recorded as a
// KindReady event (Fd = the entry's Fd, Arg0 = its events, Arg1 = epfd), so
// that readiness a handler waits for on its own epoll instance shows in the
// trace as the engine's own does.
func (s *Sys) EpollWait(epfd int, events []EpollEvent, msec int) (n int, err error) {
	t, on := s.begin(callEpollWait, epfd)
	n, err = unix.EpollWait(epfd, events, msec)
	end := s.recordOn(on, callEpollWait, t, epfd, n, err, int64(msec), 0)
	if n > 0 && s.rec.Enabled() {
		for i := range events[:n] {
			e := trace.Event{Kind: trace.KindReady, Time: end, Name: s.names[callEpollWait],
				Fd: max(events[i].Fd, -1), Arg0: int64(events[i].Events), Arg1: int64(epfd)}
			if on {
				s.rec.Emit(e)
			} else {
				s.rec.EmitForeign(e)
			}
		}
	}
	return n, err
}

func sockaddrPort(sa Sockaddr) int64 {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return int64(a.Port)
	case *unix.SockaddrInet6:
		return int64(a.Port)
	}
	return 0
}
