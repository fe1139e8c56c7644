// Package sys holds the system calls a handler may make. Each wrapper has
// the name and signature of its golang.org/x/sys/unix counterpart, makes the
// real call, and records it in the loop's trace with its result and
// duration. Together with package engine it is all a handler may import, so
// the trace is complete and a handler cannot forge it.
package sys
