package uring

import (
	"time"
	"unsafe"
)

// SQE is a submission queue entry, laid out exactly like struct
// io_uring_sqe (64 bytes). Unions are named after the member the engine
// uses; the comments list the others.
type SQE struct {
	Opcode      uint8  // an Opcode
	Flags       uint8  // SQE* flags
	Ioprio      uint16 // ioprio; RECV/SEND/ACCEPT op-specific flags
	Fd          int32  // file descriptor, -1 when unused
	Off         uint64 // off / addr2: file offset; CONNECT addrlen; ACCEPT *addrlen; TIMEOUT count
	Addr        uint64 // addr / splice_off_in: buffer, iovec, sockaddr, timespec; cancel target
	Len         uint32 // bytes, iovecs, 1 for timeouts; POLL_ADD flags
	OpFlags     uint32 // rw_flags, fsync_flags, poll32_events, msg_flags, timeout_flags, accept_flags, cancel_flags, ...
	UserData    uint64 // echoed in the CQE
	BufIndex    uint16 // buf_index / buf_group
	Personality uint16 // registered credentials
	SpliceFdIn  int32  // splice_fd_in / file_index / optlen / addr_len
	Addr3       uint64 // addr3 / attr_ptr / optval
	_           uint64 // __pad2
}

// CQE is a completion queue entry, laid out like struct io_uring_cqe
// (16 bytes; a ring set up with SetupCQE32 has 16 more bytes of padding
// that CQE does not show).
type CQE struct {
	UserData uint64 // the SQE's UserData
	Res      int32  // the result: ≥ 0 on success, -errno on failure
	Flags    uint32 // CQEF* flags
}

// Timespec is struct __kernel_timespec, the timeout that TIMEOUT,
// LINK_TIMEOUT and EnterExtArg read.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// NewTimespec converts d to a Timespec. A negative d becomes zero, which
// the kernel accepts and treats as already expired.
func NewTimespec(d time.Duration) Timespec {
	if d < 0 {
		d = 0
	}
	return Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
}

// The Prep helpers fill the fields liburing's io_uring_prep_* functions
// set and nothing else: they expect an SQE from Ring.GetSQE, which is
// already zeroed, and leave Flags and UserData to the caller.
//
// Every address argument is a uintptr because the kernel reads or writes
// that memory after the call returns, usually after Submit returns too.
// Keeping it alive and unmoved until the operation's own CQE arrives (not
// the CQE of a cancel aimed at it) is the caller's job; a Go object whose
// only reference is this uintptr can be freed by the garbage collector.

func (s *SQE) prepRW(op Opcode, fd int, addr uintptr, n uint32, off uint64) {
	s.Opcode = uint8(op)
	s.Fd = int32(fd)
	s.Off = off
	s.Addr = uint64(addr)
	s.Len = n
}

// PrepNop makes s a NOP, which completes with res 0 and does nothing.
func (s *SQE) PrepNop() {
	s.prepRW(OpNop, -1, 0, 0, 0)
}

// PrepRead makes s a READ of n bytes from fd at offset off into the
// buffer at addr. An off of ^uint64(0) (-1) reads at the file's current
// position; pipes and sockets ignore off and want 0 or -1.
func (s *SQE) PrepRead(fd int, addr uintptr, n uint32, off uint64) {
	s.prepRW(OpRead, fd, addr, n, off)
}

// PrepWrite makes s a WRITE of n bytes from the buffer at addr to fd at
// offset off (^uint64(0) for the current position).
func (s *SQE) PrepWrite(fd int, addr uintptr, n uint32, off uint64) {
	s.prepRW(OpWrite, fd, addr, n, off)
}

// PrepReadv makes s a READV into nr iovecs (an array of unix.Iovec at
// iovecs). The iovecs and the buffers they point at must stay alive.
func (s *SQE) PrepReadv(fd int, iovecs uintptr, nr uint32, off uint64) {
	s.prepRW(OpReadv, fd, iovecs, nr, off)
}

// PrepWritev makes s a WRITEV from nr iovecs at iovecs.
func (s *SQE) PrepWritev(fd int, iovecs uintptr, nr uint32, off uint64) {
	s.prepRW(OpWritev, fd, iovecs, nr, off)
}

// PrepRecv makes s a RECV of up to n bytes from socket fd into the buffer
// at addr, with recv(2) flags msgFlags (such as unix.MSG_WAITALL).
func (s *SQE) PrepRecv(fd int, addr uintptr, n uint32, msgFlags uint32) {
	s.prepRW(OpRecv, fd, addr, n, 0)
	s.OpFlags = msgFlags
}

// PrepSend makes s a SEND of n bytes from the buffer at addr to socket
// fd, with send(2) flags msgFlags.
func (s *SQE) PrepSend(fd int, addr uintptr, n uint32, msgFlags uint32) {
	s.prepRW(OpSend, fd, addr, n, 0)
	s.OpFlags = msgFlags
}

// PrepConnect makes s a CONNECT of socket fd to the raw sockaddr at
// sockaddr (for example a unix.RawSockaddrInet4 with the port in network
// byte order, never a Go interface). The ABI carries addrlen in Off.
func (s *SQE) PrepConnect(fd int, sockaddr uintptr, addrlen uint32) {
	s.prepRW(OpConnect, fd, sockaddr, 0, uint64(addrlen))
}

// PrepAccept makes s an ACCEPT on listening socket fd. The peer address
// is written to sockaddr and its length to the uint32 at addrlenPtr, which
// must hold the buffer size; both may be 0. flags are accept4(2) flags
// such as unix.SOCK_CLOEXEC. The CQE's res is the new fd.
func (s *SQE) PrepAccept(fd int, sockaddr uintptr, addrlenPtr uintptr, flags uint32) {
	s.prepRW(OpAccept, fd, sockaddr, 0, uint64(addrlenPtr))
	s.OpFlags = flags
}

// PrepPollAdd makes s a one-shot POLL_ADD waiting for poll(2) events
// (such as unix.POLLIN) on fd; res is the ready mask. Set PollAddMulti in
// Len for a multishot poll.
func (s *SQE) PrepPollAdd(fd int, events uint32) {
	s.prepRW(OpPollAdd, fd, 0, 0, 0)
	s.OpFlags = pollMask(events)
}

// PrepPollRemove makes s a POLL_REMOVE of the poll whose user_data is
// target.
func (s *SQE) PrepPollRemove(target uint64) {
	s.prepRW(OpPollRemove, -1, 0, 0, 0)
	s.Addr = target
}

// PrepTimeout makes s a TIMEOUT that completes with -ETIME after ts, or
// with res 0 once count other CQEs have been posted (0 means time only).
// The kernel copies *ts when it consumes the SQE, so ts must stay valid
// until then: until Submit returns, or with SetupSQPoll until SQPending
// no longer counts it.
func (s *SQE) PrepTimeout(ts *Timespec, count uint64, flags uint32) {
	s.prepRW(OpTimeout, -1, uintptr(unsafe.Pointer(ts)), 1, count)
	s.OpFlags = flags
}

// PrepTimeoutRemove makes s a TIMEOUT_REMOVE of the timeout whose
// user_data is target.
func (s *SQE) PrepTimeoutRemove(target uint64, flags uint32) {
	s.prepRW(OpTimeoutRemove, -1, 0, 0, 0)
	s.Addr = target
	s.OpFlags = flags
}

// PrepLinkTimeout makes s a LINK_TIMEOUT for the SQE just before it, which
// must carry SQEIOLink. If the timer fires first the linked op gets
// -ECANCELED and the timeout -ETIME; if the op finishes first the timeout
// gets -ECANCELED. ts must stay valid until the SQE is consumed, as for
// PrepTimeout.
func (s *SQE) PrepLinkTimeout(ts *Timespec, flags uint32) {
	s.prepRW(OpLinkTimeout, -1, uintptr(unsafe.Pointer(ts)), 1, 0)
	s.OpFlags = flags
}

// PrepCancel makes s an ASYNC_CANCEL of the op whose user_data is target.
// Its res is 0 (cancelled), -ENOENT (not found or already done) or
// -EALREADY (running; it will complete soon). The target's own CQE, not
// this one, says how the target ended.
func (s *SQE) PrepCancel(target uint64, flags uint32) {
	s.prepRW(OpAsyncCancel, -1, 0, 0, 0)
	s.Addr = target
	s.OpFlags = flags
}

// PrepFsync makes s an FSYNC of fd; flags may be FsyncDatasync. It is not
// ordered against earlier writes unless linked or drained.
func (s *SQE) PrepFsync(fd int, flags uint32) {
	s.prepRW(OpFsync, fd, 0, 0, 0)
	s.OpFlags = flags
}

// PrepClose makes s a CLOSE of fd.
func (s *SQE) PrepClose(fd int) {
	s.prepRW(OpClose, fd, 0, 0, 0)
}

// bigEndian reports whether the host stores the high byte first.
var bigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()

// pollMask converts a poll(2) mask to poll32_events, which big-endian
// hosts store with its 16-bit halves swapped (liburing's
// __io_uring_prep_poll_mask).
func pollMask(events uint32) uint32 {
	if bigEndian {
		return events<<16 | events>>16
	}
	return events
}
