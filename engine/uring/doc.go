// Package uring is a raw io_uring ring written on golang.org/x/sys/unix
// system calls, with no cgo and no other library. It is the io_uring
// backend's lowest layer: ring setup, the mmaps of the SQ ring, the CQ ring
// and the SQE array, io_uring_enter, the opcode probe, and helpers that fill
// SQEs the way liburing does.
//
// A [Ring] is not safe for concurrent use. It belongs to one goroutine that
// has called runtime.LockOSThread before [Setup]: completion task_work runs
// on the submitting OS thread, and a ring set up with [SetupSingleIssuer]
// (the default) fails io_uring_enter from any other thread with EEXIST.
//
// The ring never owns the memory an operation points at. Buffers, iovecs,
// sockaddrs and timespecs passed to the Prep helpers as addresses must stay
// alive and unmoved until that operation's own CQE has been reaped; keeping
// them so is the caller's job (an in-flight table, runtime.Pinner, or an
// off-heap arena).
//
// io_uring ops are not system calls, so a seccomp filter never sees them:
// a ring can open files and sockets (IORING_OP_OPENAT, IORING_OP_SOCKET,
// of any family) that the filter refuses to open(2) and socket(2).
// [Options].Restrict sets a ring up restricted to the opcodes, SQE flags
// and io_uring_register opcodes of a [Restrictions] (Linux 5.10), and
// [ForbidNewRings] makes io_uring_setup fail in the process once it has
// the rings it needs, so that no unrestricted ring can be made after.
//
// [Check] reports whether io_uring is usable on this host and, when it is
// not, why: a sysctl, a seccomp filter or an old kernel. On systems other
// than Linux only the portable parts (opcodes, SQE and CQE layouts, [Check])
// exist.
//
// # Reading alongside
//
// The package follows the kernel's interface closely, so its man pages
// are its reference: io_uring(7) for the model, io_uring_setup(2) for
// [Setup] and its flags, io_uring_enter(2) for [Ring.Submit] and the
// waits, io_uring_register(2) for [Ring.Probe] and [Restrictions], and
// liburing's io_uring_prep_read(3) and its siblings for each Prep helper
// of [SQE], which fills the same fields. The examples show a round trip, a
// completion-based read, and a linked timeout cancelling a read.
package uring
