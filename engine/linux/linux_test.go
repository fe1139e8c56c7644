//go:build linux

package linux

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Every number here is the kernel's, as golang.org/x/sys/unix has it.
func TestNumbersAreLinuxs(t *testing.T) {
	tests := []struct {
		name      string
		got, want int64
	}{
		{"EPERM", EPERM, int64(unix.EPERM)}, {"ENOENT", ENOENT, int64(unix.ENOENT)}, {"EINTR", EINTR, int64(unix.EINTR)},
		{"EIO", EIO, int64(unix.EIO)}, {"EBADF", EBADF, int64(unix.EBADF)}, {"EAGAIN", EAGAIN, int64(unix.EAGAIN)},
		{"ENOMEM", ENOMEM, int64(unix.ENOMEM)}, {"EACCES", EACCES, int64(unix.EACCES)}, {"EFAULT", EFAULT, int64(unix.EFAULT)},
		{"EBUSY", EBUSY, int64(unix.EBUSY)}, {"EEXIST", EEXIST, int64(unix.EEXIST)}, {"EINVAL", EINVAL, int64(unix.EINVAL)},
		{"EMFILE", EMFILE, int64(unix.EMFILE)}, {"ESPIPE", ESPIPE, int64(unix.ESPIPE)}, {"EPIPE", EPIPE, int64(unix.EPIPE)},
		{"ENOSYS", ENOSYS, int64(unix.ENOSYS)}, {"ETIME", ETIME, int64(unix.ETIME)}, {"ENOTSOCK", ENOTSOCK, int64(unix.ENOTSOCK)},
		{"EOPNOTSUPP", EOPNOTSUPP, int64(unix.EOPNOTSUPP)}, {"EADDRINUSE", EADDRINUSE, int64(unix.EADDRINUSE)},
		{"ECONNABORTED", ECONNABORTED, int64(unix.ECONNABORTED)}, {"ECONNRESET", ECONNRESET, int64(unix.ECONNRESET)},
		{"EISCONN", EISCONN, int64(unix.EISCONN)}, {"ENOTCONN", ENOTCONN, int64(unix.ENOTCONN)},
		{"ETIMEDOUT", ETIMEDOUT, int64(unix.ETIMEDOUT)}, {"ECONNREFUSED", ECONNREFUSED, int64(unix.ECONNREFUSED)},
		{"EALREADY", EALREADY, int64(unix.EALREADY)}, {"EINPROGRESS", EINPROGRESS, int64(unix.EINPROGRESS)},
		{"ECANCELED", ECANCELED, int64(unix.ECANCELED)},
		{"EPOLLIN", EPOLLIN, unix.EPOLLIN}, {"EPOLLPRI", EPOLLPRI, unix.EPOLLPRI}, {"EPOLLOUT", EPOLLOUT, unix.EPOLLOUT},
		{"EPOLLERR", EPOLLERR, unix.EPOLLERR}, {"EPOLLHUP", EPOLLHUP, unix.EPOLLHUP}, {"EPOLLRDHUP", EPOLLRDHUP, unix.EPOLLRDHUP},
		{"EPOLLET", EPOLLET, unix.EPOLLET & 0xffffffff},
		{"POLLIN", POLLIN, unix.POLLIN}, {"POLLOUT", POLLOUT, unix.POLLOUT}, {"POLLERR", POLLERR, unix.POLLERR},
		{"POLLHUP", POLLHUP, unix.POLLHUP}, {"SO_ERROR", SO_ERROR, unix.SO_ERROR},
		{"SOCK_NONBLOCK", SOCK_NONBLOCK, unix.SOCK_NONBLOCK}, {"SOCK_CLOEXEC", SOCK_CLOEXEC, unix.SOCK_CLOEXEC},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, the kernel's is %#x", tt.name, tt.got, tt.want)
		}
	}
}
