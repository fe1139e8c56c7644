package uring

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestRestrictionLayout(t *testing.T) {
	if got := unsafe.Sizeof(restriction{}); got != 16 {
		t.Errorf("sizeof restriction = %d, want 16", got)
	}
	if got := unsafe.Offsetof(restriction{}.Arg); got != 2 {
		t.Errorf("offsetof restriction.Arg = %d, want 2", got)
	}
}

// prepSocket fills s the way liburing's io_uring_prep_socket does.
func prepSocket(s *SQE, domain, typ, proto int) {
	s.prepRW(OpSocket, domain, 0, uint32(proto), uint64(typ))
}

// prepOpenat fills s the way liburing's io_uring_prep_openat does.
func prepOpenat(s *SQE, path uintptr, flags uint32) {
	s.prepRW(OpOpenat, unix.AT_FDCWD, path, 0, 0)
	s.OpFlags = flags
}

// closeRes closes the descriptor a SOCKET or OPENAT returned.
func closeRes(op Opcode, res int32) {
	if (op == OpSocket || op == OpOpenat) && res >= 0 {
		unix.Close(int(res))
	}
}

// TestRestrictedRing runs each SQE alone on a ring that allows NOP and
// WRITE, IO_LINK and nothing else, and the same SQE on an unrestricted
// ring: a refusal is -EACCES only where the restriction is the cause.
func TestRestrictedRing(t *testing.T) {
	path := append([]byte(os.DevNull), 0)
	msg := []byte("x")
	tests := []struct {
		name       string
		fill       func(t *testing.T, s *SQE)
		restricted int32 // res on the restricted ring; the unrestricted ring must succeed
	}{
		{"NOP", func(t *testing.T, s *SQE) { s.PrepNop() }, 0},
		{"NOP with IO_LINK", func(t *testing.T, s *SQE) { s.PrepNop(); s.Flags = SQEIOLink }, 0},
		{"NOP with ASYNC", func(t *testing.T, s *SQE) { s.PrepNop(); s.Flags = SQEAsync }, -int32(unix.EACCES)},
		{"WRITE to /dev/null", func(t *testing.T, s *SQE) {
			fd, err := unix.Open(os.DevNull, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Close(fd) })
			s.PrepWrite(fd, pinBytes(t, msg), 1, 0)
		}, 1},
		{"SOCKET AF_NETLINK", func(t *testing.T, s *SQE) {
			prepSocket(s, unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		}, -int32(unix.EACCES)},
		{"SOCKET AF_INET", func(t *testing.T, s *SQE) {
			prepSocket(s, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		}, -int32(unix.EACCES)},
		{"OPENAT /dev/null", func(t *testing.T, s *SQE) {
			prepOpenat(s, pinBytes(t, path), unix.O_RDONLY|unix.O_CLOEXEC)
		}, -int32(unix.EACCES)},
	}
	rs := &Restrictions{Ops: []Opcode{OpNop, OpWrite}, SQEFlags: SQEIOLink}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(t, Options{Entries: 8, Restrict: rs})
			if !r.Restricted() || r.SetupFlags()&SetupRDisabled != 0 {
				t.Fatalf("Restricted() = %v, SetupFlags() = %#x: want a restricted, enabled ring", r.Restricted(), r.SetupFlags())
			}
			s := mustSQE(t, r)
			tt.fill(t, s)
			s.UserData = 1
			op := Opcode(s.Opcode)
			c := waitCQEs(t, r, 1)[0]
			closeRes(op, c.Res)
			if c.Res != tt.restricted {
				t.Errorf("restricted ring: %s res = %d (%v), want %d", tt.name, c.Res, errno(c.Res), tt.restricted)
			}

			// The control: the kernel can do it, so -EACCES above is
			// the restriction's.
			u := newRing(t, Options{Entries: 8})
			s = mustSQE(t, u)
			tt.fill(t, s)
			s.UserData = 2
			c = waitCQEs(t, u, 1)[0]
			closeRes(op, c.Res)
			if c.Res < 0 {
				t.Errorf("unrestricted ring: %s res = %d (%v), want success", tt.name, c.Res, errno(c.Res))
			}
		})
	}
}

// A flag in RequiredSQEFlags must be on every SQE.
func TestRestrictedRequiredFlags(t *testing.T) {
	r := newRing(t, Options{Entries: 8, Restrict: &Restrictions{Ops: []Opcode{OpNop}, RequiredSQEFlags: SQEIOHardlink}})
	s := mustSQE(t, r)
	s.PrepNop()
	s.UserData = 1
	s = mustSQE(t, r)
	s.PrepNop()
	s.Flags = SQEIOHardlink
	s.UserData = 2
	got := byUserData(t, waitCQEs(t, r, 2))
	if got[1].Res != -int32(unix.EACCES) || got[2].Res != 0 {
		t.Errorf("NOP without, with HARDLINK: res = %d, %d; want %d, 0", got[1].Res, got[2].Res, -int32(unix.EACCES))
	}
}

func TestRestrictedRegister(t *testing.T) {
	r := newRing(t, Options{Entries: 8, Restrict: &Restrictions{Ops: []Opcode{OpNop}, RegisterOps: []RegisterOp{RegisterProbe}}})
	if _, err := r.Probe(); err != nil {
		t.Errorf("Probe() = %v, want nil: REGISTER_PROBE is allowed", err)
	}
	var set unix.CPUSet
	set.Set(0)
	if err := r.RegisterIOWQAffinity(&set); !errors.Is(err, unix.EACCES) {
		t.Errorf("RegisterIOWQAffinity() = %v, want EACCES: REGISTER_IOWQ_AFF is not allowed", err)
	}
	// Restrictions are fixed once the ring is enabled.
	res := (&Restrictions{Ops: []Opcode{OpSocket}}).entries()
	if _, err := r.register(RegisterRestrictions, unsafe.Pointer(&res[0]), uint32(len(res))); err == nil {
		t.Errorf("register(RESTRICTIONS) on an enabled ring = nil, want an error")
	}
	u := newRing(t, Options{Entries: 8})
	if err := u.RegisterIOWQAffinity(&set); err != nil {
		t.Errorf("unrestricted ring: RegisterIOWQAffinity() = %v, want nil", err)
	}
}

// An op the running kernel does not know cannot be allowed: registration
// fails and Setup returns no ring.
func TestRestrictUnknownOp(t *testing.T) {
	if st := hostStatus(); !st.Available {
		t.Skip(st.Reason)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := Setup(Options{Entries: 8, Restrict: &Restrictions{Ops: []Opcode{255}}})
	if err == nil {
		r.Close()
		t.Fatalf("Setup(Restrict: op 255) = ring, want an error")
	}
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("Setup(Restrict: op 255) = %v, want EINVAL", err)
	}
}

// forbidChildEnv makes the test binary run forbidChild instead of tests.
const forbidChildEnv = "URING_FORBID_CHILD"

// TestForbidNewRings runs in a child process: the filter cannot be taken
// back, and the other tests need new rings.
func TestForbidNewRings(t *testing.T) {
	if os.Getenv(forbidChildEnv) == "1" {
		forbidChild()
		return
	}
	if st := hostStatus(); !st.Available {
		t.Skip(st.Reason)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestForbidNewRings$", "-test.count=1")
	cmd.Env = append(os.Environ(), forbidChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			got[k] = v
		}
	}
	want := map[string]string{
		"before":            "ok",
		"forbid":            "ok",
		"forbid again":      "ok",
		"setup":             "operation not permitted",
		"setup restricted":  "operation not permitted",
		"setup new thread":  "operation not permitted",
		"old ring NOP":      "0",
		"check":             "unavailable",
		"forbidden":         "true",
		"child setup":       "operation not permitted",
		"seccomp filters≥1": "true",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

// forbidChild prints "name<TAB>result" lines for TestForbidNewRings.
func forbidChild() {
	line := func(k, v string) { os.Stdout.WriteString(k + "\t" + v + "\n") }
	result := func(err error) string {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return errno.Error()
		}
		if err != nil {
			return err.Error()
		}
		return "ok"
	}
	runtime.LockOSThread()
	old, err := Setup(Options{Entries: 8, Restrict: &Restrictions{Ops: []Opcode{OpNop}}})
	line("before", result(err))
	if err != nil {
		os.Exit(0)
	}
	line("forbid", result(ForbidNewRings()))
	line("forbid again", result(ForbidNewRings()))
	line("forbidden", strconv.FormatBool(NewRingsForbidden()))
	_, err = Setup(Options{Entries: 8})
	line("setup", result(err))
	_, err = Setup(Options{Entries: 8, Restrict: &Restrictions{Ops: []Opcode{OpNop}}})
	line("setup restricted", result(err))
	done := make(chan error)
	go func() {
		// A goroutine locked to a thread of its own: TSYNC put the filter
		// on every thread, and new threads inherit it.
		runtime.LockOSThread()
		_, err := Setup(Options{Entries: 8})
		done <- err
	}()
	line("setup new thread", result(<-done))
	s := old.GetSQE()
	s.PrepNop()
	if _, err := old.SubmitAndWait(1); err != nil {
		line("old ring NOP", result(err))
	} else if c, ok := old.PeekCQE(); ok {
		line("old ring NOP", strconv.Itoa(int(c.Res)))
	}
	if st := Check(); st.Available {
		line("check", "available")
	} else {
		line("check", "unavailable")
	}
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp_filters:"); ok {
			line("seccomp filters≥1", strconv.FormatBool(strings.TrimSpace(v) != "0"))
		}
	}
	// A process started now inherits the filter.
	line("child setup", childSetup())
	os.Exit(0)
}

// childSetup runs io_uring_setup in a new process, the test binary again.
func childSetup() string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestForbidNewRingsInherited$", "-test.count=1")
	cmd.Env = append(os.Environ(), forbidChildEnv+"=inherited")
	out, _ := cmd.CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "inherited setup\t"); ok {
			return v
		}
	}
	return "no answer: " + string(out)
}

// TestForbidNewRingsInherited is the grandchild of TestForbidNewRings; on
// its own it does nothing.
func TestForbidNewRingsInherited(t *testing.T) {
	if os.Getenv(forbidChildEnv) != "inherited" {
		return
	}
	runtime.LockOSThread()
	_, err := Setup(Options{Entries: 8})
	msg := "ok"
	var errno unix.Errno
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	os.Stdout.WriteString("inherited setup\t" + msg + "\n")
}
