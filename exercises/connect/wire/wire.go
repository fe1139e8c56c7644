// Package wire is what the connect harness and its checks agree on: the names both sides of the
// trace use. It is a leaf, so that the grader's side builds on any platform.
package wire

// Probe is what the harness sends on a connection the handler reports, so
// the trusted listener can tell a real connection from a claimed one.
const Probe = "asynclab-probe"
