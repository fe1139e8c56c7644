package uring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// sysctlPath gates io_uring since Linux 6.6: 0 allows it, 1 limits it to
// kernel.io_uring_group, 2 disables it.
const sysctlPath = "/proc/sys/kernel/io_uring_disabled"

// checkRestrictions is the probe ring's: no SQE at all, and the probe.
var checkRestrictions = Restrictions{RegisterOps: []RegisterOp{RegisterProbe}}

// Check sets up a tiny restricted ring, probes its opcodes and closes it,
// and reports whether the engine can use io_uring here. The engine only
// ever makes restricted rings, so a kernel without ring restrictions
// (before 5.10) is reported unavailable. It locks the calling goroutine to
// its thread for the duration, so it may be called from anywhere.
func Check() Status {
	st := Status{Sysctl: readSysctl()}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	r, err := Setup(Options{Entries: 8, Restrict: &checkRestrictions})
	if err != nil {
		if NewRingsForbidden() {
			st.Reason = err.Error() + ": ForbidNewRings has run in this process"
			return st
		}
		st.Reason = setupReason(err, st.Sysctl, seccompMode())
		return st
	}
	defer r.Close()
	st.Features = r.Features()
	p, err := r.Probe()
	if err != nil {
		st.Reason = probeReason(err)
		return st
	}
	for _, op := range NeededOps {
		if !p.Supported(op) {
			st.Missing = append(st.Missing, op)
		}
	}
	if len(st.Missing) > 0 {
		st.Reason = missingReason(st.Missing)
		return st
	}
	st.Available = true
	return st
}

// readSysctl returns the io_uring_disabled sysctl, or "" on kernels
// without it.
func readSysctl() string {
	b, err := os.ReadFile(sysctlPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// seccompMode returns the Seccomp field of /proc/self/status: "0" none,
// "1" strict, "2" filter, or "" when unknown.
func seccompMode() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Seccomp:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// setupReason explains a Setup failure. err is what Setup returned (its
// text already names the call, "io_uring_setup: ..."), sysctl the
// io_uring_disabled value and seccomp the process's seccomp mode.
func setupReason(err error, sysctl, seccomp string) string {
	msg := err.Error()
	switch {
	case errors.Is(err, unix.EPERM):
		switch sysctl {
		case "2":
			return msg + " (kernel.io_uring_disabled=2)"
		case "1":
			return msg + " (kernel.io_uring_disabled=1 and the process is not in kernel.io_uring_group)"
		}
		if seccomp == "0" {
			return msg + ": refused by a security module such as SELinux (no seccomp filter is active)"
		}
		return msg + ": blocked by seccomp (EPERM/ENOSYS)"
	case errors.Is(err, unix.ENOSYS):
		if seccomp == "0" {
			return msg + ": kernel built without io_uring (CONFIG_IO_URING=n) or older than 5.1"
		}
		return msg + ": blocked by seccomp (EPERM/ENOSYS)"
	case errors.Is(err, unix.EINVAL):
		return msg + ": kernel rejected the ring parameters (older than 5.10, which added IORING_SETUP_R_DISABLED and ring restrictions, or flags it lacks)"
	case errors.Is(err, unix.ENOMEM):
		return msg + ": ring memory exceeds RLIMIT_MEMLOCK (kernels up to 5.11 charge rings to it)"
	}
	return msg
}

// probeReason explains a Probe failure.
func probeReason(err error) string {
	if errors.Is(err, unix.EINVAL) {
		return err.Error() + ": kernel older than 5.6 (no IORING_REGISTER_PROBE)"
	}
	return err.Error()
}

// missingReason explains missing opcodes by the oldest release among those
// that added them: the kernel must be older than that.
func missingReason(missing []Opcode) string {
	names := make([]string, len(missing))
	oldest := 0
	for i, op := range missing {
		names[i] = op.String()
		if v, ok := opSince[op]; ok && (oldest == 0 || v < oldest) {
			oldest = v
		}
	}
	list := strings.Join(names, "/")
	if oldest == 0 {
		return "kernel lacks " + list
	}
	return fmt.Sprintf("kernel older than %d.%d: %s missing", oldest/100, oldest%100, list)
}
