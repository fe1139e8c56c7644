package uring

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCheck(t *testing.T) {
	st := Check()
	if !st.Available {
		t.Skip(st.Reason)
	}
	if st.Reason != "" || len(st.Missing) != 0 {
		t.Errorf("Check() = %+v, want no Reason and no Missing ops", st)
	}
	if st.Features == 0 {
		t.Errorf("Check().Features = 0, want non-zero")
	}
	want := ""
	if b, err := os.ReadFile(sysctlPath); err == nil {
		want = strings.TrimSpace(string(b))
	}
	if st.Sysctl != want {
		t.Errorf("Check().Sysctl = %q, want %q", st.Sysctl, want)
	}
	t.Logf("Check() = %+v", st)
}

func TestSetupReason(t *testing.T) {
	setupErr := func(e unix.Errno) error { return os.NewSyscallError("io_uring_setup", e) }
	tests := []struct {
		name            string
		err             error
		sysctl, seccomp string
		want            string
	}{
		{"disabled by sysctl", setupErr(unix.EPERM), "2", "0",
			"io_uring_setup: operation not permitted (kernel.io_uring_disabled=2)"},
		{"group only", setupErr(unix.EPERM), "1", "0",
			"io_uring_setup: operation not permitted (kernel.io_uring_disabled=1 and the process is not in kernel.io_uring_group)"},
		{"seccomp EPERM", setupErr(unix.EPERM), "0", "2",
			"io_uring_setup: operation not permitted: blocked by seccomp (EPERM/ENOSYS)"},
		{"seccomp EPERM, old kernel without sysctl", setupErr(unix.EPERM), "", "2",
			"io_uring_setup: operation not permitted: blocked by seccomp (EPERM/ENOSYS)"},
		{"EPERM without seccomp", setupErr(unix.EPERM), "0", "0",
			"io_uring_setup: operation not permitted: refused by a security module such as SELinux (no seccomp filter is active)"},
		{"seccomp ENOSYS", setupErr(unix.ENOSYS), "", "2",
			"io_uring_setup: function not implemented: blocked by seccomp (EPERM/ENOSYS)"},
		{"no io_uring in kernel", setupErr(unix.ENOSYS), "", "0",
			"io_uring_setup: function not implemented: kernel built without io_uring (CONFIG_IO_URING=n) or older than 5.1"},
		{"EINVAL", setupErr(unix.EINVAL), "0", "0",
			"io_uring_setup: invalid argument: kernel rejected the ring parameters (older than 5.10, which added IORING_SETUP_R_DISABLED and ring restrictions, or flags it lacks)"},
		{"memlock", setupErr(unix.ENOMEM), "", "0",
			"io_uring_setup: cannot allocate memory: ring memory exceeds RLIMIT_MEMLOCK (kernels up to 5.11 charge rings to it)"},
		{"mmap", os.NewSyscallError("mmap", unix.EACCES), "0", "0",
			"mmap: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setupReason(tt.err, tt.sysctl, tt.seccomp); got != tt.want {
				t.Errorf("setupReason(%v, %q, %q) = %q, want %q", tt.err, tt.sysctl, tt.seccomp, got, tt.want)
			}
		})
	}
}

func TestProbeReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{os.NewSyscallError("io_uring_register", unix.EINVAL),
			"io_uring_register: invalid argument: kernel older than 5.6 (no IORING_REGISTER_PROBE)"},
		{os.NewSyscallError("io_uring_register", unix.EEXIST), "io_uring_register: file exists"},
	}
	for _, tt := range tests {
		if got := probeReason(tt.err); got != tt.want {
			t.Errorf("probeReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestMissingReason(t *testing.T) {
	tests := []struct {
		missing []Opcode
		want    string
	}{
		{[]Opcode{OpRead, OpRecv}, "kernel older than 5.6: READ/RECV missing"},
		{[]Opcode{OpRead, OpAccept, OpConnect}, "kernel older than 5.5: READ/ACCEPT/CONNECT missing"},
		{[]Opcode{OpTimeout}, "kernel older than 5.4: TIMEOUT missing"},
		{[]Opcode{Opcode(45)}, "kernel lacks SOCKET"},
	}
	for _, tt := range tests {
		if got := missingReason(tt.missing); got != tt.want {
			t.Errorf("missingReason(%v) = %q, want %q", tt.missing, got, tt.want)
		}
	}
}
