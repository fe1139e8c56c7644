package sandbox

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// How a run ended decides its verdict; a crash is named even when its
// dump passed the output cap.
func TestEndingVerdict(t *testing.T) {
	lim := tight()
	exited := func(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }
	killed := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }
	const crash = "runtime: failed to create new OS thread (have 33 already; errno=11)"
	tests := []struct {
		name    string
		e       ending
		verdict Verdict
		reason  string // a part of the reason; "" wants none
	}{
		{"clean exit", ending{status: exited(0)}, VerdictOK, ""},
		{"exit status", ending{status: exited(3)}, VerdictRuntimeError, "exit status 3"},
		{"crash", ending{status: exited(2), crash: crash}, VerdictRuntimeError, "crashed: " + crash},
		{"crash that hit the pids limit", ending{status: exited(2), crash: crash, pidsRefused: 4},
			VerdictRuntimeError, "limit of 32 processes/threads"},
		{"crash whose dump passed the output cap", ending{status: killed(syscall.SIGKILL), crash: crash,
			kill: VerdictOutputLimit, killDetail: "stderr exceeded 64 KiB"}, VerdictRuntimeError, "crashed: " + crash},
		{"crash that ended within the grace past the wall time", ending{status: exited(2), crash: crash},
			VerdictRuntimeError, "crashed: " + crash},
		{"a fork bomb's child crashed, and it ran out of time", ending{status: killed(syscall.SIGKILL), crash: crash,
			kill: VerdictTimeLimit, killDetail: "wall time exceeded 3s"}, VerdictTimeLimit, "wall time exceeded 3s"},
		{"wall time", ending{status: killed(syscall.SIGKILL), kill: VerdictTimeLimit,
			killDetail: "wall time exceeded 3s"}, VerdictTimeLimit, "wall time exceeded 3s"},
		{"flood", ending{status: killed(syscall.SIGKILL), kill: VerdictOutputLimit, killDetail: "stderr exceeded 64 KiB",
			stderrOver: true}, VerdictOutputLimit, "stderr exceeded 64 KiB"},
		{"a crash does not hide a forbidden call", ending{status: killed(syscall.SIGKILL), crash: crash,
			kill: VerdictKilled, killDetail: "forbidden"}, VerdictKilled, "forbidden"},
		{"stderr over, then exit 0", ending{status: exited(0), stderrOver: true}, VerdictOutputLimit, "stderr exceeded 64 KiB"},
		{"out of memory", ending{status: killed(syscall.SIGKILL), ooms: 1}, VerdictMemoryLimit, "memory limit exceeded 96 MiB"},
		{"CPU limit by the kernel", ending{status: killed(syscall.SIGXCPU), cpu: 3 * time.Second},
			VerdictTimeLimit, "CPU time exceeded 3s"},
		{"seccomp", ending{status: killed(syscall.SIGSYS)}, VerdictKilled, "forbidden system call"},
		{"SIGKILL from elsewhere", ending{status: killed(syscall.SIGKILL)}, VerdictKilled, "killed by SIGKILL"},
		{"a signal of its own", ending{status: killed(syscall.SIGSEGV)}, VerdictRuntimeError, "killed by signal SIGSEGV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, reason := tc.e.verdict(lim)
			if v != tc.verdict || tc.reason == "" && reason != "" || !strings.Contains(reason, tc.reason) {
				t.Errorf("verdict = %s %q, want %s %q", v, reason, tc.verdict, tc.reason)
			}
		})
	}
}
