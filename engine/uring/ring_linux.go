package uring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmap offsets of the three ring regions (IORING_OFF_*).
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// errClosed is returned by calls on a closed Ring.
var errClosed = fmt.Errorf("uring: %w", os.ErrClosed)

// sqRingOffsets is struct io_sqring_offsets.
type sqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

// cqRingOffsets is struct io_cqring_offsets.
type cqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, CQEs, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

// params is struct io_uring_params (120 bytes).
type params struct {
	SQEntries    uint32
	CQEntries    uint32
	Flags        uint32
	SQThreadCPU  uint32
	SQThreadIdle uint32
	Features     uint32
	WQFd         uint32
	Resv         [3]uint32
	SQOff        sqRingOffsets
	CQOff        cqRingOffsets
}

// getEventsArg is struct io_uring_getevents_arg, passed with EnterExtArg.
type getEventsArg struct {
	Sigmask     uint64
	SigmaskSz   uint32
	MinWaitUsec uint32
	TS          uint64
}

// Ring is one io_uring instance: its fd and the three shared mappings.
// It is not safe for concurrent use; see the package comment for the
// thread it must be used from.
type Ring struct {
	fd         int
	flags      uint32
	features   uint32
	restricted bool // set up with Options.Restrict

	// The mappings stay referenced here so that Close can unmap them; the
	// pointers below point into them.
	ringMem []byte // SQ ring, and the CQ ring too with FeatSingleMMap
	cqMem   []byte // CQ ring when it is mapped separately
	sqeMem  []byte // the SQE array

	sq struct {
		head, tail, flags, dropped *uint32 // shared with the kernel
		mask, entries              uint32
		sqes                       unsafe.Pointer
		sqeShift                   uint   // log2 of the SQE size (6, or 7 with SetupSQE128)
		sqeHead, sqeTail           uint32 // local: published up to sqeHead, handed out up to sqeTail
	}
	cq struct {
		head, tail, overflow *uint32 // shared with the kernel
		mask, entries        uint32
		cqes                 unsafe.Pointer
		cqeShift             uint // log2 of the CQE size (4, or 5 with SetupCQE32)
	}

	// closedWords stands in for the shared words after Close, so that a
	// closed ring reads as empty and full instead of faulting.
	closedWords [4]uint32

	// The ext-arg timeout for SubmitAndWaitTimeout lives on the Ring so its
	// address stays valid for the kernel without escaping a stack frame.
	waitArg getEventsArg
	waitTS  Timespec
}

// Setup creates a ring with io_uring_setup(2). When Options.Flags is 0
// it asks for SetupSingleIssuer|SetupCoopTaskrun and retries without
// them if the kernel says EINVAL (kernels before 6.0). It maps the SQ
// and CQ rings (once, when the kernel reports FeatSingleMMap) and the SQE
// array, and fills the SQ index array with the identity, reading every
// offset from the kernel's io_uring_params.
//
// With Options.Restrict the ring is set up disabled (SetupRDisabled), the
// restrictions are registered and the ring is enabled before Setup
// returns; an error at any step closes the ring. A kernel without ring
// restrictions (before 5.10) makes io_uring_setup fail with EINVAL, and
// Setup returns that error: it never falls back to an unrestricted ring.
//
// Call Setup on the OS thread that will submit, with that goroutine locked
// to it by runtime.LockOSThread: with SetupSingleIssuer the kernel binds
// the ring to the creating thread (to the enabling thread, for a
// restricted ring) and fails io_uring_enter from any other with EEXIST,
// and completion task_work always runs on the submitter.
func Setup(opts Options) (*Ring, error) {
	entries := opts.Entries
	if entries == 0 {
		entries = DefaultEntries
	}
	flags := opts.Flags
	if flags&unsupportedSetupFlags != 0 {
		return nil, fmt.Errorf("uring: setup flags %#x (NO_MMAP, REGISTERED_FD_ONLY) are not supported", flags&unsupportedSetupFlags)
	}
	auto := flags == 0
	if auto {
		flags = defaultSetupFlags
	}
	if opts.CQEntries != 0 {
		flags |= SetupCQSize
	}
	if opts.Restrict != nil {
		flags |= SetupRDisabled
	}
	p, fd, err := setup(entries, opts, flags)
	if err == unix.EINVAL && auto {
		flags &^= defaultSetupFlags
		p, fd, err = setup(entries, opts, flags)
	}
	if err != nil {
		return nil, os.NewSyscallError("io_uring_setup", err)
	}
	r := &Ring{fd: fd, flags: p.Flags, features: p.Features}
	if err := r.mapRings(&p); err != nil {
		r.Close()
		return nil, err
	}
	if opts.Restrict != nil {
		if err := r.restrict(opts.Restrict); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// restrict registers rs on the disabled ring r and enables it. The
// kernel takes restrictions only while a ring is disabled, once, and
// enforces them from IORING_REGISTER_ENABLE_RINGS on.
func (r *Ring) restrict(rs *Restrictions) error {
	res := rs.entries()
	if _, err := r.register(RegisterRestrictions, unsafe.Pointer(&res[0]), uint32(len(res))); err != nil {
		return fmt.Errorf("uring: register restrictions: %w", err)
	}
	if _, err := r.register(RegisterEnableRings, nil, 0); err != nil {
		return fmt.Errorf("uring: enable ring: %w", err)
	}
	r.flags &^= SetupRDisabled
	r.restricted = true
	return nil
}

// setup calls io_uring_setup with a fresh params block.
func setup(entries uint32, opts Options, flags uint32) (params, int, error) {
	p := params{Flags: flags, CQEntries: opts.CQEntries, SQThreadIdle: opts.SQThreadIdle}
	for {
		fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
		switch errno {
		case 0:
			return p, int(fd), nil
		case unix.EINTR:
			continue
		default:
			return p, -1, errno
		}
	}
}

// mapRings maps the rings the way liburing's io_uring_mmap does and points
// r's fields into them.
func (r *Ring) mapRings(p *params) error {
	sqeShift, cqeShift := uint(6), uint(4)
	if p.Flags&SetupSQE128 != 0 {
		sqeShift = 7
	}
	if p.Flags&SetupCQE32 != 0 {
		cqeShift = 5
	}
	sqSize := int(p.SQOff.Array) + int(p.SQEntries)*4
	cqSize := int(p.CQOff.CQEs) + int(p.CQEntries)<<cqeShift
	single := p.Features&FeatSingleMMap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	const prot, mflags = unix.PROT_READ | unix.PROT_WRITE, unix.MAP_SHARED | unix.MAP_POPULATE
	var err error
	if r.ringMem, err = unix.Mmap(r.fd, offSQRing, sqSize, prot, mflags); err != nil {
		return os.NewSyscallError("mmap", err)
	}
	cqMem := r.ringMem
	if !single {
		if r.cqMem, err = unix.Mmap(r.fd, offCQRing, cqSize, prot, mflags); err != nil {
			return os.NewSyscallError("mmap", err)
		}
		cqMem = r.cqMem
	}
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.SQEntries)<<sqeShift, prot, mflags); err != nil {
		return os.NewSyscallError("mmap", err)
	}

	word := func(mem []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	sq := &r.sq
	sq.head = word(r.ringMem, p.SQOff.Head)
	sq.tail = word(r.ringMem, p.SQOff.Tail)
	sq.flags = word(r.ringMem, p.SQOff.Flags)
	sq.dropped = word(r.ringMem, p.SQOff.Dropped)
	sq.mask = *word(r.ringMem, p.SQOff.RingMask)
	sq.entries = *word(r.ringMem, p.SQOff.RingEntries)
	sq.sqes = unsafe.Pointer(&r.sqeMem[0])
	sq.sqeShift = sqeShift
	if p.Flags&SetupNoSQArray == 0 {
		array := unsafe.Slice(word(r.ringMem, p.SQOff.Array), sq.entries)
		for i := range array {
			array[i] = uint32(i)
		}
	}

	cq := &r.cq
	cq.head = word(cqMem, p.CQOff.Head)
	cq.tail = word(cqMem, p.CQOff.Tail)
	cq.overflow = word(cqMem, p.CQOff.Overflow)
	cq.mask = *word(cqMem, p.CQOff.RingMask)
	cq.entries = *word(cqMem, p.CQOff.RingEntries)
	cq.cqes = unsafe.Pointer(&cqMem[p.CQOff.CQEs])
	cq.cqeShift = cqeShift
	return nil
}

// Close unmaps the rings and closes the ring fd. In-flight operations are
// cancelled by the kernel; their memory must stay valid until they are
// gone, which the kernel does not report. Close is idempotent.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	var errs []error
	for _, mem := range [][]byte{r.sqeMem, r.cqMem, r.ringMem} {
		if mem != nil {
			if err := unix.Munmap(mem); err != nil {
				errs = append(errs, os.NewSyscallError("munmap", err))
			}
		}
	}
	if err := unix.Close(r.fd); err != nil {
		errs = append(errs, os.NewSyscallError("close", err))
	}
	r.fd = -1
	r.ringMem, r.cqMem, r.sqeMem = nil, nil, nil
	w := &r.closedWords
	r.sq.head, r.sq.tail, r.sq.flags, r.sq.dropped = &w[0], &w[0], &w[1], &w[1]
	r.sq.entries, r.sq.sqeHead, r.sq.sqeTail, r.sq.sqes = 0, 0, 0, nil
	r.cq.head, r.cq.tail, r.cq.overflow = &w[2], &w[2], &w[3]
	r.cq.entries, r.cq.cqes = 0, nil
	return errors.Join(errs...)
}

// Fd returns the ring's file descriptor, or -1 after Close.
func (r *Ring) Fd() int { return r.fd }

// Features returns the kernel's Feat* bits for this ring.
func (r *Ring) Features() uint32 { return r.features }

// SetupFlags returns the setup flags the ring was created with, after the
// EINVAL fallback and including SetupCQSize. SetupRDisabled is cleared
// once a restricted ring is enabled.
func (r *Ring) SetupFlags() uint32 { return r.flags }

// Restricted reports whether the ring was set up with Options.Restrict.
func (r *Ring) Restricted() bool { return r.restricted }

// SQEntries returns the SQ size, a power of two.
func (r *Ring) SQEntries() uint32 { return r.sq.entries }

// CQEntries returns the CQ size, a power of two.
func (r *Ring) CQEntries() uint32 { return r.cq.entries }

// SQFlags returns the SQ ring's flag word (SQNeedWakeup, SQCQOverflow,
// SQTaskrun).
func (r *Ring) SQFlags() uint32 { return atomic.LoadUint32(r.sq.flags) }

// SQDropped returns how many SQEs the kernel skipped as invalid.
func (r *Ring) SQDropped() uint32 { return atomic.LoadUint32(r.sq.dropped) }

// GetSQE returns the next free SQE, zeroed, or nil when the SQ is full and
// the caller must Submit first. The SQE is handed to the kernel by the next
// Submit, SubmitAndWait or SubmitAndWaitTimeout, in the order GetSQE
// returned it.
func (r *Ring) GetSQE() *SQE {
	next := r.sq.sqeTail + 1
	if next-atomic.LoadUint32(r.sq.head) > r.sq.entries {
		return nil
	}
	p := unsafe.Add(r.sq.sqes, uintptr(r.sq.sqeTail&r.sq.mask)<<r.sq.sqeShift)
	r.sq.sqeTail = next
	if r.sq.sqeShift == 7 {
		*(*[128]byte)(p) = [128]byte{}
	}
	sqe := (*SQE)(p)
	*sqe = SQE{}
	return sqe
}

// SQPending returns the number of SQEs handed out by GetSQE that the
// kernel has not consumed yet, whether or not they have been published.
func (r *Ring) SQPending() uint32 {
	return r.sq.sqeTail - atomic.LoadUint32(r.sq.head)
}

// SQSpace returns how many more SQEs GetSQE can hand out before a Submit.
func (r *Ring) SQSpace() uint32 {
	return r.sq.entries - r.SQPending()
}

// flush publishes the SQEs handed out so far by storing the SQ tail and
// returns how many the kernel has yet to consume.
func (r *Ring) flush() uint32 {
	tail := r.sq.sqeTail
	if r.sq.sqeHead != tail {
		r.sq.sqeHead = tail
		// The SQE contents were written with plain stores; this store
		// publishes them (release).
		atomic.StoreUint32(r.sq.tail, tail)
	}
	return tail - atomic.LoadUint32(r.sq.head)
}

// sqpollWakeup returns EnterSQWakeup when the ring has an SQPOLL thread
// that has gone to sleep, else 0.
func (r *Ring) sqpollWakeup() uint32 {
	if r.flags&SetupSQPoll != 0 && atomic.LoadUint32(r.sq.flags)&SQNeedWakeup != 0 {
		return EnterSQWakeup
	}
	return 0
}

// Submit publishes the prepared SQEs and calls io_uring_enter(n, 0, 0)
// without waiting. It returns the number of SQEs the kernel consumed.
// Nothing to submit means no system call.
//
// The enter does not wait for completions, so it uses RawSyscall6 and
// keeps the P; the inline part of each op (a buffered write's copy into
// the page cache, for instance) still runs inside it. EAGAIN or EBUSY
// (wrapped) mean the kernel is short of memory or CQ space: reap, then
// submit again.
func (r *Ring) Submit() (int, error) {
	n := r.flush()
	if r.flags&SetupSQPoll != 0 {
		if w := r.sqpollWakeup(); w != 0 {
			if _, err := r.enter(n, 0, w, nil, 0, true); err != nil {
				return 0, err
			}
		}
		return int(n), nil
	}
	if n == 0 {
		return 0, nil
	}
	return r.enter(n, 0, 0, nil, 0, true)
}

// SubmitAndWait publishes the prepared SQEs and calls
// io_uring_enter(n, waitNr, EnterGetEvents), blocking until at least
// waitNr CQEs are ready. It uses unix.Syscall6, so the runtime can hand the
// P to another thread while it blocks, and retries on EINTR. It returns the
// number of SQEs consumed; a signal may end the wait early when SQEs were
// consumed, so check CQReady.
func (r *Ring) SubmitAndWait(waitNr uint32) (int, error) {
	n := r.flush()
	return r.enter(n, waitNr, EnterGetEvents|r.sqpollWakeup(), nil, 0, false)
}

// SubmitAndWaitTimeout is SubmitAndWait with a limit on the wait, passed
// through EnterExtArg (FeatExtArg, 5.11). Running out of time is not an
// error: it returns the SQEs consumed and a nil error, and CQReady says
// what arrived. A signal ends the wait early in the same way, rather than
// starting the whole timeout again: a caller that waits until its next
// timer works the time out afresh, and signals that keep coming cannot put
// that timer off.
func (r *Ring) SubmitAndWaitTimeout(waitNr uint32, d time.Duration) (int, error) {
	if r.fd < 0 {
		return 0, errClosed
	}
	n := r.flush()
	r.waitTS = NewTimespec(d)
	r.waitArg = getEventsArg{TS: uint64(uintptr(unsafe.Pointer(&r.waitTS)))}
	got, errno := r.enterOnce(n, waitNr, EnterGetEvents|EnterExtArg|r.sqpollWakeup(),
		unsafe.Pointer(&r.waitArg), unsafe.Sizeof(r.waitArg), false)
	switch errno {
	case 0:
		return got, nil
	case unix.ETIME, unix.EINTR:
		return 0, nil // nothing was consumed: the kernel reports the count when something was
	default:
		return 0, os.NewSyscallError("io_uring_enter", errno)
	}
}

// Enter calls io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)
// with unix.Syscall6, retrying on EINTR. It does not publish SQEs: use it
// after Submit, for example Enter(0, 0, EnterGetEvents) to flush CQEs
// parked by an overflow. Errors are *os.SyscallError for "io_uring_enter".
func (r *Ring) Enter(toSubmit, minComplete, flags uint32) (int, error) {
	return r.enter(toSubmit, minComplete, flags, nil, 0, false)
}

// enter is io_uring_enter, retried on EINTR: nothing was consumed then (the
// kernel reports the count instead when something was), so the same call
// is still right. raw selects RawSyscall6, which only calls that cannot
// block may use.
func (r *Ring) enter(toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr, raw bool) (int, error) {
	if r.fd < 0 {
		return 0, errClosed
	}
	for {
		n, errno := r.enterOnce(toSubmit, minComplete, flags, arg, argSize, raw)
		switch errno {
		case 0:
			return n, nil
		case unix.EINTR:
			continue
		default:
			return 0, os.NewSyscallError("io_uring_enter", errno)
		}
	}
}

// enterOnce is one io_uring_enter call.
func (r *Ring) enterOnce(toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr, raw bool) (int, unix.Errno) {
	if raw {
		n, _, errno := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd),
			uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(arg), argSize)
		return int(n), errno
	}
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd),
		uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(arg), argSize)
	return int(n), errno
}

// CQReady returns the number of CQEs ready to reap. The load of the
// kernel's tail is an acquire, so the CQEs it covers are visible. Under
// SetupCoopTaskrun some completions wait for the next enter before they
// show up here.
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cq.tail) - atomic.LoadUint32(r.cq.head)
}

// cqeAt returns the CQE slot for ring index i.
func (r *Ring) cqeAt(i uint32) *CQE {
	return (*CQE)(unsafe.Add(r.cq.cqes, uintptr(i&r.cq.mask)<<r.cq.cqeShift))
}

// PeekCQE returns a copy of the oldest ready CQE without consuming it, and
// false when none is ready.
func (r *Ring) PeekCQE() (CQE, bool) {
	head := atomic.LoadUint32(r.cq.head)
	if atomic.LoadUint32(r.cq.tail) == head {
		return CQE{}, false
	}
	return *r.cqeAt(head), true
}

// Advance marks n CQEs as consumed, releasing their slots to the kernel
// (a release store of the CQ head).
func (r *Ring) Advance(n uint32) {
	if n != 0 {
		atomic.StoreUint32(r.cq.head, atomic.LoadUint32(r.cq.head)+n)
	}
}

// Reap copies up to len(dst) ready CQEs into dst, consumes them and
// returns how many it copied. It does not enter the kernel.
func (r *Ring) Reap(dst []CQE) int {
	head := atomic.LoadUint32(r.cq.head)
	n := atomic.LoadUint32(r.cq.tail) - head
	if uint32(len(dst)) < n {
		n = uint32(len(dst))
	}
	for i := range n {
		dst[i] = *r.cqeAt(head + i)
	}
	if n != 0 {
		atomic.StoreUint32(r.cq.head, head+n)
	}
	return int(n)
}

// Overflowed reports whether the CQ overflowed: SQCQOverflow is set in the
// SQ flags. With FeatNoDrop the kernel keeps the extra CQEs and
// Enter(0, 0, EnterGetEvents) moves them into the CQ once it has room.
func (r *Ring) Overflowed() bool {
	return atomic.LoadUint32(r.sq.flags)&SQCQOverflow != 0
}

// CQOverflowCount returns the kernel's CQ overflow counter: CQEs lost for
// good. With FeatNoDrop it only grows when the kernel cannot allocate
// memory to park an overflowed CQE.
func (r *Ring) CQOverflowCount() uint32 {
	return atomic.LoadUint32(r.cq.overflow)
}

// probeOp is struct io_uring_probe_op.
type probeOp struct {
	Op    uint8
	_     uint8
	Flags uint16
	_     uint32
}

// probeBuf is struct io_uring_probe with room for every opcode.
type probeBuf struct {
	LastOp uint8
	OpsLen uint8
	_      uint16
	_      [3]uint32
	Ops    [256]probeOp
}

// Probe asks the kernel which opcodes it supports (IORING_REGISTER_PROBE
// of io_uring_register(2), 5.6). On older kernels the error wraps EINVAL. Call it from the ring's
// thread: SetupSingleIssuer rings refuse registration from others.
func (r *Ring) Probe() (*Probe, error) {
	var buf probeBuf
	if _, err := r.register(RegisterProbe, unsafe.Pointer(&buf), uint32(len(buf.Ops))); err != nil {
		return nil, err
	}
	p := &Probe{lastOp: Opcode(buf.LastOp)}
	for _, op := range buf.Ops[:buf.OpsLen] {
		if op.Flags&probeOpSupported != 0 {
			p.ops[op.Op] = true
		}
	}
	return p, nil
}

// register is io_uring_register, retried on EINTR.
func (r *Ring) register(op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	if r.fd < 0 {
		return 0, errClosed
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(op),
			uintptr(arg), uintptr(nrArgs), 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		default:
			return 0, os.NewSyscallError("io_uring_register", errno)
		}
	}
}

// RegisterIOWQAffinity restricts the ring's io-wq worker threads to the
// CPUs in set (IORING_REGISTER_IOWQ_AFF, 5.14). io-wq belongs to the
// submitting thread, so this affects every ring that thread uses.
func (r *Ring) RegisterIOWQAffinity(set *unix.CPUSet) error {
	_, err := r.register(RegisterIOWQAff, unsafe.Pointer(set), uint32(unsafe.Sizeof(*set)))
	return err
}

// UnregisterIOWQAffinity lets io-wq workers run on any CPU again.
func (r *Ring) UnregisterIOWQAffinity() error {
	_, err := r.register(UnregisterIOWQAff, nil, 0)
	return err
}
