// Package engine is the event loop that student handlers program against.
//
// A [Loop] runs on one locked OS thread. It keeps a cooperative FIFO of ready
// callbacks, timers in a min-heap, futures with [Future.Then] and a blocking
// [Future.Wait], and await-style coroutines ([Loop.Async] and [Await]). I/O
// goes through one of two backends that share one interface: epoll, a
// readiness loop that emulates completions, and io_uring, a real submission
// and completion ring. Every system call, wakeup, submission, completion,
// handler, future and timer is recorded in a [trace.Recorder], so what the
// kernel really did can be shown, graded and replayed.
//
// Handlers reach the kernel only through the loop and the traced wrappers in
// package sys, so the trace is complete and cannot be forged by the handler.
package engine
