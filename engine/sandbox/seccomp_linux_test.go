package sandbox

import (
	"encoding/binary"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// runFilter runs the classic BPF program p on a seccomp_data for the
// given arch, syscall number and first argument, as the kernel would, and
// returns the action. It knows the instructions filter uses, and fails on
// any other, on a jump out of the program and on falling off its end.
func runFilter(t *testing.T, p []unix.SockFilter, arch, nr uint32, arg0 uint64) uint32 {
	t.Helper()
	data := make([]byte, 64) // struct seccomp_data
	binary.LittleEndian.PutUint32(data[offNr:], nr)
	binary.LittleEndian.PutUint32(data[offArch:], arch)
	binary.LittleEndian.PutUint64(data[offArg0:], arg0)
	var a uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case ldAbs:
			a = binary.LittleEndian.Uint32(data[in.K:])
		case ret:
			return in.K
		case jeq, jge, jset:
			var taken bool
			switch in.Code {
			case jeq:
				taken = a == in.K
			case jge:
				taken = a >= in.K
			default:
				taken = a&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			if pc+1 >= len(p) {
				t.Fatalf("nr %d: jump at %d leaves the program", nr, pc)
			}
		default:
			t.Fatalf("instruction %d: unknown code %#x", pc, in.Code)
		}
	}
	t.Fatalf("nr %d: the program ends without a return", nr)
	return 0
}

func TestSeccompFilter(t *testing.T) {
	if auditArch == 0 {
		t.Skip("no seccomp filter for this architecture")
	}
	type filterCase struct {
		name string
		arch uint32
		nr   uint32
		arg0 uint64
		want uint32
	}
	p := filter()
	tests := []filterCase{
		{"read", auditArch, unix.SYS_READ, 0, retAllow},
		{"io_uring_setup", auditArch, unix.SYS_IO_URING_SETUP, 0, retAllow},
		{"epoll_pwait", auditArch, unix.SYS_EPOLL_PWAIT, 0, retAllow},
		{"socket inet", auditArch, unix.SYS_SOCKET, unix.AF_INET, retAllow},
		{"socket unix", auditArch, unix.SYS_SOCKET, unix.AF_UNIX, retAllow},
		{"socketpair unix", auditArch, unix.SYS_SOCKETPAIR, unix.AF_UNIX, retAllow},
		{"socket netlink", auditArch, unix.SYS_SOCKET, unix.AF_NETLINK, retEPERM},
		{"socket vsock", auditArch, unix.SYS_SOCKET, unix.AF_VSOCK, retEPERM},
		{"socketpair packet", auditArch, unix.SYS_SOCKETPAIR, unix.AF_PACKET, retEPERM},
		{"clone thread", auditArch, unix.SYS_CLONE, unix.CLONE_VM | unix.CLONE_THREAD, retAllow},
		{"clone newuser", auditArch, unix.SYS_CLONE, unix.CLONE_NEWUSER, retEPERM},
		{"clone newnet", auditArch, unix.SYS_CLONE, unix.CLONE_NEWNET | unix.CLONE_VM, retEPERM},
		{"clone3", auditArch, unix.SYS_CLONE3, 0, retNoSys},
		{"mount", auditArch, unix.SYS_MOUNT, 0, retNoSys},
		{"unshare", auditArch, unix.SYS_UNSHARE, 0, retNoSys},
		{"ptrace", auditArch, unix.SYS_PTRACE, 0, retNoSys},
		{"bpf", auditArch, unix.SYS_BPF, 0, retNoSys},
		{"inotify_init1", auditArch, unix.SYS_INOTIFY_INIT1, 0, retNoSys},
		{"a number no kernel has", auditArch, 4000, 0, retNoSys},
		{"another ABI", auditArch + 1, unix.SYS_READ, 0, retKill},
	}
	if x32Bit != 0 {
		tests = append(tests, filterCase{"x32", auditArch, x32Bit | unix.SYS_READ, 0, retKill})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runFilter(t, p, tt.arch, tt.nr, tt.arg0); got != tt.want {
				t.Errorf("action = %#x, want %#x", got, tt.want)
			}
		})
	}
}

// TestSeccompAllowsOnlyTheList checks every syscall number the kernel
// could be asked for: the filter allows exactly the listed calls (and
// socket, socketpair and clone with the right arguments).
func TestSeccompAllowsOnlyTheList(t *testing.T) {
	if auditArch == 0 {
		t.Skip("no seccomp filter for this architecture")
	}
	p := filter()
	allowed := slices.Concat(allowedSyscalls, archAllowed, []uint32{unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CLONE})
	for nr := uint32(0); nr < 1024; nr++ {
		arg := uint64(unix.AF_INET)
		got := runFilter(t, p, auditArch, nr, arg)
		want := uint32(retNoSys)
		if slices.Contains(allowed, nr) {
			want = retAllow
		}
		if got != want {
			t.Errorf("syscall %d: action = %#x, want %#x", nr, got, want)
		}
	}
}

// neverAllowed are calls that would widen a box's reach or open kernel
// attack surface no lab program needs. The allow list must never take
// them in, whatever a survey finds.
var neverAllowed = map[string]uint32{
	"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "pivot_root": unix.SYS_PIVOT_ROOT,
	"unshare": unix.SYS_UNSHARE, "setns": unix.SYS_SETNS, "open_tree": unix.SYS_OPEN_TREE,
	"move_mount": unix.SYS_MOVE_MOUNT, "fsopen": unix.SYS_FSOPEN, "fsmount": unix.SYS_FSMOUNT,
	"chroot": unix.SYS_CHROOT, "open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT,
	"ptrace": unix.SYS_PTRACE, "process_vm_readv": unix.SYS_PROCESS_VM_READV,
	"process_vm_writev": unix.SYS_PROCESS_VM_WRITEV, "pidfd_getfd": unix.SYS_PIDFD_GETFD, "kcmp": unix.SYS_KCMP,
	"bpf": unix.SYS_BPF, "perf_event_open": unix.SYS_PERF_EVENT_OPEN, "userfaultfd": unix.SYS_USERFAULTFD,
	"keyctl": unix.SYS_KEYCTL, "add_key": unix.SYS_ADD_KEY, "request_key": unix.SYS_REQUEST_KEY,
	"personality": unix.SYS_PERSONALITY, "inotify_init1": unix.SYS_INOTIFY_INIT1,
	"fanotify_init": unix.SYS_FANOTIFY_INIT, "kexec_load": unix.SYS_KEXEC_LOAD,
	"init_module": unix.SYS_INIT_MODULE, "finit_module": unix.SYS_FINIT_MODULE, "reboot": unix.SYS_REBOOT,
	"swapon": unix.SYS_SWAPON, "acct": unix.SYS_ACCT, "syslog": unix.SYS_SYSLOG,
	"clock_settime": unix.SYS_CLOCK_SETTIME, "settimeofday": unix.SYS_SETTIMEOFDAY,
	"adjtimex": unix.SYS_ADJTIMEX, "clone3": unix.SYS_CLONE3,
	"sethostname": unix.SYS_SETHOSTNAME, "setuid": unix.SYS_SETUID, "capset": unix.SYS_CAPSET,
}

func TestSeccompNeverAllows(t *testing.T) {
	for name, nr := range neverAllowed {
		if slices.Contains(allowedSyscalls, nr) || slices.Contains(archAllowed, nr) {
			t.Errorf("%s (%d) is on the allow list", name, nr)
		}
	}
	if len(allowedSyscalls) != len(uniq(allowedSyscalls)) {
		t.Errorf("the allow list names a call twice")
	}
}

func uniq(s []uint32) []uint32 {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// The filter's jumps must land inside the program, it must fit, and what
// falls through every check is refused with ENOSYS.
func TestFilterShape(t *testing.T) {
	p := filter()
	if len(p) == 0 || len(p) > unix.BPF_MAXINSNS {
		t.Fatalf("len(filter()) = %d", len(p))
	}
	for i, ins := range p {
		if ins.Code&0x07 == unix.BPF_JMP && (i+1+int(ins.Jt) >= len(p) || i+1+int(ins.Jf) >= len(p)) {
			t.Errorf("instruction %d jumps out of the program: %+v", i, ins)
		}
	}
	if last := p[len(p)-1]; last.Code != ret || last.K != retNoSys {
		t.Errorf("the filter ends with %+v, want RET ERRNO(ENOSYS)", last)
	}
}

// mustAllow are calls real runs were seen to need. Each one missing once
// broke boxes: glibc's thread start in box-init (the server's own binary,
// which cgo links against glibc) aborted the process when rseq failed.
var mustAllow = map[string]uint32{
	"rseq": unix.SYS_RSEQ, "set_robust_list": unix.SYS_SET_ROBUST_LIST, "futex": unix.SYS_FUTEX,
	"execve": unix.SYS_EXECVE, "close_range": unix.SYS_CLOSE_RANGE, "seccomp": unix.SYS_SECCOMP,
	"epoll_pwait": unix.SYS_EPOLL_PWAIT, "io_uring_enter": unix.SYS_IO_URING_ENTER,
	"sched_setaffinity": unix.SYS_SCHED_SETAFFINITY, "setsid": unix.SYS_SETSID, "mknodat": unix.SYS_MKNODAT,
	"sysinfo": unix.SYS_SYSINFO, "prctl": unix.SYS_PRCTL, "waitid": unix.SYS_WAITID,
}

func TestSeccompAllowsWhatRunsNeed(t *testing.T) {
	for name, nr := range mustAllow {
		if !slices.Contains(allowedSyscalls, nr) && !slices.Contains(archAllowed, nr) {
			t.Errorf("%s (%d) is not on the allow list", name, nr)
		}
	}
}
