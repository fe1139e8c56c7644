// Package enginebench measures the engine against its baselines and prints
// the results as tables of ratios.
//
// It has three parts:
//   - a NOP sweep on the raw ring (batch sizes 1 to 256) next to the
//     readiness baseline (one epoll_wait plus one read per op) and a plain
//     getpid, all on one locked, pinned OS thread;
//   - a closed-loop TCP echo (100 connections, 128-byte messages) against
//     our epoll loop, our io_uring loop and Go's net package, each server in
//     its own child process so that its CPU time comes from its own rusage
//     (the whole process, and for our loops also the loop thread alone);
//   - the cost of tracing: the same echo and a NOP sweep through the loop,
//     with the recorder on (and drained) and off.
//
// A comparison is always a ratio measured in the same run; absolute times
// are printed but never asserted. A main that uses [Run] must call
// [ServeChild] first, because the echo servers are this same binary
// started again with the environment variable [ChildEnv] set.
//
// `lab bench engine` runs it, and so does the separate bench/ module, which
// adds gnet and a C sweep on liburing through [Server] and [Sweep]. It
// lives under internal/bench, not under engine/, so that the engine's
// packages hold only what a handler runs on; the package keeps its name so
// that a file can import it beside the engine it measures.
package enginebench
