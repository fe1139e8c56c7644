// Package linux holds the Linux numbers a trace carries: errno values,
// epoll event bits, socket flags. A trace always comes from Linux, so code
// that reads one (the checks, the server) reads these numbers as Linux
// wrote them on whatever platform it runs; linux_test.go checks each
// against golang.org/x/sys/unix on Linux. They are the generic Linux ABI's
// (x86, arm, riscv), not alpha's, mips's or sparc's.
package linux

// Errno values, as a trace's results carry them negated.
const (
	EPERM        = 1
	ENOENT       = 2
	EINTR        = 4
	EIO          = 5
	EBADF        = 9
	EAGAIN       = 11
	ENOMEM       = 12
	EACCES       = 13
	EFAULT       = 14
	EBUSY        = 16
	EEXIST       = 17
	EINVAL       = 22
	EMFILE       = 24
	ESPIPE       = 29
	EPIPE        = 32
	ENOSYS       = 38
	ETIME        = 62
	ENOTSOCK     = 88
	EOPNOTSUPP   = 95
	EADDRINUSE   = 98
	ECONNABORTED = 103
	ECONNRESET   = 104
	EISCONN      = 106
	ENOTCONN     = 107
	ETIMEDOUT    = 110
	ECONNREFUSED = 111
	EALREADY     = 114
	EINPROGRESS  = 115
	ECANCELED    = 125
)

// epoll event bits, as a ready event's Arg0 carries them.
const (
	EPOLLIN    = 0x1
	EPOLLPRI   = 0x2
	EPOLLOUT   = 0x4
	EPOLLERR   = 0x8
	EPOLLHUP   = 0x10
	EPOLLRDHUP = 0x2000
	EPOLLET    = 0x80000000
)

// poll(2) event bits, as a POLL_ADD completion's result carries them.
const (
	POLLIN  = 0x1
	POLLOUT = 0x4
	POLLERR = 0x8
	POLLHUP = 0x10
)

// SO_ERROR is the socket option getsockopt reads a pending error with, as a
// getsockopt call's Arg0 carries it.
const SO_ERROR = 4

// Socket type flags, as a socket call's Arg1 carries them.
const (
	SOCK_NONBLOCK = 0x800
	SOCK_CLOEXEC  = 0x80000
)
