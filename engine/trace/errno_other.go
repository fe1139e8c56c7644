//go:build !linux

package trace

// errnoName returns the symbolic name of a Linux errno, such as "EAGAIN",
// or "" if it is not one the lab commonly sees. Traces always come from
// Linux, so the numbers are Linux's whatever the host running the tools.
func errnoName(n int64) string {
	return linuxErrnos[n]
}

var linuxErrnos = map[int64]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG",
	9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT",
	16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL",
	23: "ENFILE", 24: "EMFILE", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 32: "EPIPE",
	35: "EDEADLK", 38: "ENOSYS", 62: "ETIME", 75: "EOVERFLOW", 88: "ENOTSOCK",
	95: "EOPNOTSUPP", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL",
	100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED", 104: "ECONNRESET",
	105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT",
	111: "ECONNREFUSED", 113: "EHOSTUNREACH", 114: "EALREADY", 115: "EINPROGRESS",
	125: "ECANCELED",
}
