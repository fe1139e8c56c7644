package engine

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

// The loop's ring allows exactly the opcodes of the OpKinds, which prep
// writes one for one, and the SQE flags of every Order.
func TestLoopRingRestrictionsMatchOps(t *testing.T) {
	var kinds []uring.Opcode
	for k := range maps.Keys(opNames) {
		kinds = append(kinds, uring.Opcode(k))
	}
	slices.Sort(kinds)
	allowed := slices.Sorted(slices.Values(loopRingRestrictions.Ops))
	if !slices.Equal(allowed, kinds) {
		t.Errorf("loopRingRestrictions.Ops = %v, want the OpKinds %v", allowed, kinds)
	}
	for o := range 256 {
		if f := Order(o).sqeFlags(); f&^loopRingRestrictions.SQEFlags != 0 {
			t.Errorf("Order(%d).sqeFlags() = %#x, outside the allowed %#x", o, f, loopRingRestrictions.SQEFlags)
		}
	}
	if len(loopRingRestrictions.RegisterOps) != 0 || len(rawRingRestrictions.RegisterOps) != 0 {
		t.Errorf("register ops allowed: loop %v, raw %v; want none", loopRingRestrictions.RegisterOps, rawRingRestrictions.RegisterOps)
	}
}

// Both rings the engine makes are restricted, and refuse a SOCKET.
func TestEngineRingsRefuseSocket(t *testing.T) {
	if st := uring.Check(); !st.Available {
		t.Skipf("io_uring unavailable on this kernel: %s", st.Reason)
	}
	l := New(Config{Backend: Uring, Recorder: trace.NewRecorder(0, 1<<12, time.Now())})
	var loopRing, raw bool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := l.Run(ctx, "main", func() {
		defer l.Stop()
		loopRing = l.be.(*uringBackend).ring.Restricted()
		r, err := l.NewRing(4)
		if err != nil {
			t.Errorf("NewRing(4) = %v", err)
			return
		}
		raw = r.r.Restricted()
		r.Close()
	})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if !loopRing || !raw {
		t.Errorf("Restricted(): loop ring %v, NewRing %v; want both true", loopRing, raw)
	}

	for name, rs := range map[string]*uring.Restrictions{"loop": &loopRingRestrictions, "raw": &rawRingRestrictions} {
		for _, fam := range []int{unix.AF_VSOCK, unix.AF_NETLINK, unix.AF_INET} {
			if got := socketOp(t, rs, fam); got != -int32(unix.EACCES) {
				t.Errorf("%s ring: SOCKET(family %d) res = %d, want -EACCES", name, fam, got)
			}
		}
	}
}

// socketOp submits one IORING_OP_SOCKET on a ring restricted by rs and
// returns its result.
func socketOp(t *testing.T, rs *uring.Restrictions, family int) int32 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := uring.Setup(uring.Options{Entries: 4, Restrict: rs})
	if err != nil {
		t.Fatalf("Setup = %v", err)
	}
	defer r.Close()
	s := r.GetSQE()
	// liburing's io_uring_prep_socket: fd = domain, off = type, len = protocol.
	s.Opcode, s.Fd, s.Off = uint8(uring.OpSocket), int32(family), unix.SOCK_STREAM|unix.SOCK_CLOEXEC
	if _, err := r.SubmitAndWait(1); err != nil {
		t.Fatalf("SubmitAndWait = %v", err)
	}
	c, _ := r.PeekCQE()
	if c.Res >= 0 {
		unix.Close(int(c.Res))
	}
	return c.Res
}
