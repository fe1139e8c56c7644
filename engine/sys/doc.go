// Package sys holds the system calls a handler may make. Each wrapper has
// the name and signature of its golang.org/x/sys/unix counterpart, makes the
// real call, and records it in the loop's trace with its result and
// duration. A call that can put the loop to sleep (connect, accept4, read,
// write, recvfrom, sendto, pread, pwrite, epoll_wait) is also recorded, and
// published, as it begins, so that a loop stuck in one shows in the trace
// while it is stuck. What EpollWait returns is recorded too, one KindReady
// event per entry. Together with package engine it is all a handler may import, so
// the trace is complete and a handler cannot forge it.
package sys
