// Package sandbox runs one untrusted program (a student's compiled
// handler, or the Go toolchain building it) confined on the real Linux
// kernel, with epoll and io_uring available to it, and reports a verdict.
//
// [Run] re-executes /proc/self/exe as "box-init" in new user, mount, pid,
// network, IPC, UTS, cgroup and time namespaces, in a cgroup of its own,
// so the server's main (and every TestMain that runs boxes) must begin
// with
//
//	if sandbox.IsInit() {
//		sandbox.InitMain()
//	}
//
// Package init functions of the server run in box-init as well, before
// InitMain: keep them free of side effects.
//
// box-init builds the box from inside and then execs the program, which
// becomes PID 1 of its pid namespace. Nothing trusted stays in the box
// for the program to attack, the exit status is the program's own, and
// when it exits the kernel kills every process left in the namespace,
// daemons included. (Orphans are not reaped while it runs; the pids
// limit bounds them.)
//
// # Identity
//
// A root server maps the box's root to a host uid of the box's own,
// leased for the run from a range ([IDRange], 1600000000 and up by
// default) and returned once the box and all its processes are gone, and
// to the boxes' gid, with no supplementary groups; an unprivileged server
// can map only itself. Leases are flocks in a directory under /run, so
// the lab processes of a host never lease one uid twice, and a crashed
// server's uids come back by themselves. What the kernel counts per host
// user (not per user namespace) is so the box's alone: io_uring's locked
// memory (rings and registered buffers are charged to the user, against
// RLIMIT_MEMLOCK, so a box holding them would starve every box of the
// same uid) and epoll watches. The program is root of its user
// namespace with no capability at all (bounding, ambient, inheritable,
// permitted and effective sets empty, secure bits locked,
// no_new_privs). Seen from the host it is an unprivileged user that owns
// no file: if it ever escaped its mount namespace it could read only
// world-readable files, and it can signal or trace nothing of the host
// or of another box.
//
// # Filesystem
//
// The root is a small tmpfs, read-only once set up, holding the binds
// (read-only, nosuid, nodev unless Writable; writable ones are noexec),
// /dev/null, /dev/zero and /dev/urandom, a proc of the box's own pid
// namespace (subset=pid: no /proc/sys, no /proc/kcore) and a writable
// tmpfs /tmp of Limits.Tmpfs bytes (noexec); no /sys. A root server
// clones each bound tree with open_tree, so the box needs no permission
// on the host path leading to it. The host tree is detached after
// pivot_root. A read-only bound directory is shown through an overlay of
// it alone, so that /proc/self/mountinfo does not give its host path.
// Landlock, where the kernel has it, restricts the same tree
// again (and io_uring's OPENAT with it): read and execute everywhere,
// write only under /tmp, the writable binds and the device nodes.
// Result.Landlock reports the ABI used. A server that must read a file a
// box could write does it through [ReadFile], which refuses symlinks,
// FIFOs, devices, hard links, other mounts and oversized files; the lab's
// grader reads only the pipes of a run.
//
// # Host facts
//
// The box's cgroup namespace is rooted at the run's cgroup (the box is
// cloned into it on v2; on v1 box-init makes the namespace once the
// server has moved it there), so /proc/self/cgroup shows "/". Its time
// namespace starts the boot clock at zero: uptime is the box's. The
// monotonic clock stays the host's, because io_uring reads absolute
// timeouts on the host's clocks.
//
// # Network
//
// The box's network namespace has a loopback interface and nothing else:
// no route leaves the box. Trusted code of the server ([Spec].Peers)
// joins that namespace on a dedicated thread, outside the box's pid
// namespace, to listen for or dial the program.
//
// # System calls
//
// A seccomp filter, loaded last, is an allow list: the calls the Go
// runtime, the engine, the harnesses and the Go toolchain make, found by
// tracing real runs (see seccomp_linux.go). Every other call fails with
// ENOSYS, as on a kernel without it: mount and the new mount API,
// unshare, setns, ptrace and process_vm_*, bpf, perf_event_open,
// userfaultfd, keyrings, inotify and fanotify (a box's inotify instances
// would count against root's, host-wide), modules, kexec, reboot, clock
// setting and the rest. clone with namespace flags, and socket families
// other than AF_UNIX, AF_INET and AF_INET6, fail with EPERM; clone3 is
// not allowed (the filter cannot read its flags). Other ABIs (i386 int
// 0x80, x32) kill the process. io_uring stays open: it is what the lab
// teaches. Its SQEs
// are not system calls, so the socket family filter does not apply to
// IORING_OP_SOCKET; the namespaces, missing capabilities, Landlock and
// cgroups do. [Doctor] warns when that leaves a path open (AF_VSOCK on a
// VM).
//
// # Limits
//
// Per run: a cgroup (v2 when this process's cgroup offers memory, pids
// and cpu; else v1 memory, pids, cpu, cpuacct and freezer) limits memory
// without swap, pids and CPU bandwidth (one CPU), and is how the run is
// killed (cgroup.kill, or freeze and SIGKILL until empty on v1) and
// measured (CPU time, peak memory, OOM kills). Hard rlimits back it up
// (NOFILE 256, NPROC a little above the pids limit, FSIZE, CORE 0, STACK 8 MiB, MEMLOCK 8 MiB, CPU);
// RLIMIT_AS and RLIMIT_DATA are left alone because they break Go. Run
// enforces the wall and CPU limits and caps stdout, stderr and the trace
// pipe (fd 3), killing the run when one overflows. stderr is read a
// little longer (a second of the run's CPU time, or 16 MiB more) before
// the kill, and its head and tail are kept apart from the cap: a Go
// crash prints every goroutine, and its dump must not turn a runtime
// error into an output limit, nor hide what the program said last. A
// crash already under way when the wall time runs out gets the same
// grace to end in. A crash is recognised by
// its first line and the dump after it ([Result].Crash); a run that
// died after the pids limit refused a fork or a thread says so in its
// Reason.
//
// # Nothing left behind
//
// The server thread that clones box-init stays locked until the box is
// reaped, so Pdeathsig kills box-init (and with PID 1, the whole box) if
// the server dies. Each run's cgroups are named after the server's pid and
// start time; [Cleanup], and the first Run of a process, kill and remove
// the runs of servers that are gone. A dead server's uid leases die with
// it.
package sandbox
