package sandbox

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock restricts the box's file access again, below the mount
// namespace: reading and executing under /, writing only under /tmp, the
// writable binds and the /dev nodes. It also covers io_uring's OPENAT,
// which seccomp cannot see. It is best effort: the box uses the highest
// ABI the kernel has (the ABI is reported in Result.Landlock and by the
// doctor) and runs without Landlock on kernels that lack it.

// landlockRulesetAttr is struct landlock_ruleset_attr as of ABI 6.
type landlockRulesetAttr struct {
	handledAccessFS  uint64
	handledAccessNet uint64
	scoped           uint64
}

const (
	llRead  = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	llWrite = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK | unix.LANDLOCK_ACCESS_FS_MAKE_FIFO |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM | unix.LANDLOCK_ACCESS_FS_REFER | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	llDev = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE
)

// landlockABI returns the kernel's Landlock ABI version, or 0 when it has
// none (not built in, or not enabled at boot).
func landlockABI() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(v)
}

// fsAccess returns the filesystem rights ABI abi knows.
func fsAccess(abi int) uint64 {
	a := uint64(unix.LANDLOCK_ACCESS_FS_MAKE_SYM<<1 - 1) // ABI 1: EXECUTE .. MAKE_SYM
	if abi >= 2 {
		a |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		a |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		a |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return a
}

// landlockRule grants access to the tree (or file) at path.
type landlockRule struct {
	path   string
	access uint64
}

// restrictLandlock restricts the calling thread, which then execs the
// program, and returns the ABI it used (0: the kernel has no Landlock).
// no_new_privs must already be set.
func restrictLandlock(rules []landlockRule) (int, error) {
	abi := landlockABI()
	if abi == 0 {
		return 0, nil
	}
	handled := fsAccess(abi)
	attr := landlockRulesetAttr{handledAccessFS: handled}
	size := unsafe.Sizeof(landlockRulesetAttr{}.handledAccessFS)
	if abi >= 4 {
		size = unsafe.Offsetof(attr.scoped)
	}
	if abi >= 6 {
		// Signals and abstract unix sockets stay within the box's own
		// Landlock domain (the netns and pidns already fence them; this
		// is the second fence).
		attr.scoped = unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | unix.LANDLOCK_SCOPE_SIGNAL
		size = unsafe.Sizeof(attr)
	}
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if e != 0 {
		return 0, os.NewSyscallError("landlock_create_ruleset", e)
	}
	defer unix.Close(int(fd))
	for _, r := range rules {
		if err := addLandlockRule(int(fd), r, handled); err != nil {
			return 0, err
		}
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); e != 0 {
		return 0, os.NewSyscallError("landlock_restrict_self", e)
	}
	return abi, nil
}

func addLandlockRule(ruleset int, r landlockRule, handled uint64) error {
	pfd, err := unix.Open(r.path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("landlock: open %s: %w", r.path, err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	access := r.access & handled
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		// Rules on files may only hold the rights that apply to files.
		access &= unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
			unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	attr := unix.LandlockPathBeneathAttr{Allowed_access: access, Parent_fd: int32(pfd)}
	_, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&attr)), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("landlock: rule for %s: %w", r.path, os.NewSyscallError("landlock_add_rule", e))
	}
	return nil
}
