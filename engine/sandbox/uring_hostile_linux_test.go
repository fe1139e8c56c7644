package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/uring"
)

// TestHostileRingEscape opens sockets past seccomp through io_uring's
// SOCKET op from inside a box. An unrestricted ring can (the control: the
// kernel has the op and the families); the engine's restricted rings
// refuse it with -EACCES, and once uring.ForbidNewRings has run no new
// ring can be made, so the control ring's way in is closed to anything
// that starts after the harness.
func TestHostileRingEscape(t *testing.T) {
	if st := uring.Check(); !st.Available {
		t.Skipf("io_uring unavailable on this kernel: %s", st.Reason)
	}
	res := run(t, boxSpec(t, "hostile/ringescape", tight()))
	wantVerdict(t, res, VerdictOK)
	got := lines(res.Stdout)
	want := map[string]string{
		// The box's seccomp filter refuses these families to socket(2).
		"syscall socket vsock": "EPERM", "syscall socket netlink": "EPERM",
		"control setup": "ok", "loop setup": "ok", "raw setup": "ok",
		// The control: io_uring is not a system call, seccomp does not see it.
		"control socket netlink": "ok",
		// The engine's rings.
		"loop socket vsock": "EACCES", "loop socket netlink": "EACCES",
		"raw socket vsock": "EACCES", "raw socket netlink": "EACCES",
		"loop connect vsock address": "EAFNOSUPPORT", // CONNECT is the loop's, the socket is AF_INET
		"raw connect vsock address":  "EACCES",
		"loop register probe":        "EACCES",
		// New rings, forbidden from the loop's first callback.
		"forbid": "ok", "engine loop after forbid": "ok", "engine NewRing after forbid": "EPERM",
		"setup after forbid": "EPERM", "setup after forbid, new thread": "EPERM",
		"control nop after forbid": "ok",
	}
	// The vsock control needs vsock on this host; where it exists the
	// restriction, not a missing family, is what refuses it.
	if fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
		unix.Close(fd)
		want["control socket vsock"] = "ok"
	} else {
		t.Logf("no AF_VSOCK on this host (%v): the netlink control stands for both", err)
	}
	wantLines(t, got, want)
}
