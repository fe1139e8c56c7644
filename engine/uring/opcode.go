package uring

import "strconv"

// Opcode is an io_uring operation. Its value is the wire number the kernel
// reads from the SQE's opcode byte (enum io_uring_op).
type Opcode uint8

// The opcodes the engine uses. The names follow IORING_OP_*.
const (
	OpNop           Opcode = 0
	OpReadv         Opcode = 1
	OpWritev        Opcode = 2
	OpFsync         Opcode = 3
	OpPollAdd       Opcode = 6
	OpPollRemove    Opcode = 7
	OpTimeout       Opcode = 11
	OpTimeoutRemove Opcode = 12
	OpAccept        Opcode = 13
	OpAsyncCancel   Opcode = 14
	OpLinkTimeout   Opcode = 15
	OpConnect       Opcode = 16
	OpClose         Opcode = 19
	OpRead          Opcode = 22
	OpWrite         Opcode = 23
	OpSend          Opcode = 26
	OpRecv          Opcode = 27
)

// Opcodes the engine never issues, named for the tests of restricted rings
// and for the sandbox's: they open files and sockets past seccomp.
const (
	OpOpenat Opcode = 18 // IORING_OP_OPENAT (5.6)
	OpSocket Opcode = 45 // IORING_OP_SOCKET (5.19)
)

// opNames holds the kernel's name for every opcode up to
// IORING_OP_PIPE (Linux 6.16), so that a probe of a newer kernel
// still prints readable names.
var opNames = [...]string{
	"NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED",
	"POLL_ADD", "POLL_REMOVE", "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG",
	"TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL", "LINK_TIMEOUT",
	"CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX",
	"READ", "WRITE", "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2",
	"EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE",
	"SHUTDOWN", "RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT",
	"MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET",
	"URING_CMD", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "WAITID",
	"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV", "FIXED_FD_INSTALL",
	"FTRUNCATE", "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED",
	"WRITEV_FIXED", "PIPE",
}

// String returns the kernel's name for o without the IORING_OP_ prefix,
// such as "READ" or "ASYNC_CANCEL", or "OP(n)" for an opcode it does not
// know.
func (o Opcode) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "OP(" + strconv.Itoa(int(o)) + ")"
}

// opSince is the kernel release that added each opcode the engine uses,
// from io_uring_enter(2), as major*100+minor. It names the cause when a
// probe finds one missing.
var opSince = map[Opcode]int{
	OpNop:           501,
	OpReadv:         501,
	OpWritev:        501,
	OpFsync:         501,
	OpPollAdd:       501,
	OpPollRemove:    501,
	OpTimeout:       504,
	OpTimeoutRemove: 505,
	OpAccept:        505,
	OpAsyncCancel:   505,
	OpLinkTimeout:   505,
	OpConnect:       505,
	OpClose:         506,
	OpRead:          506,
	OpWrite:         506,
	OpSend:          506,
	OpRecv:          506,
}

// NeededOps lists the opcodes the engine's io_uring backend uses. [Check]
// reports any of them the kernel lacks in [Status].Missing.
var NeededOps = []Opcode{
	OpNop, OpRead, OpWrite, OpRecv, OpSend, OpConnect, OpAccept, OpPollAdd,
	OpTimeout, OpLinkTimeout, OpAsyncCancel, OpFsync, OpClose,
}

// SQE flags (IOSQE_*), set in [SQE].Flags.
const (
	SQEFixedFile      uint8 = 1 << 0 // Fd is an index into the registered file table (5.1)
	SQEIODrain        uint8 = 1 << 1 // start only after every earlier SQE has completed (5.2)
	SQEIOLink         uint8 = 1 << 2 // the next SQE starts only after this one succeeds (5.3)
	SQEIOHardlink     uint8 = 1 << 3 // like SQEIOLink, but the chain survives an error (5.5)
	SQEAsync          uint8 = 1 << 4 // skip the inline attempt and go straight to io-wq (5.6)
	SQEBufferSelect   uint8 = 1 << 5 // pick a provided buffer from BufIndex's group (5.7)
	SQECQESkipSuccess uint8 = 1 << 6 // post no CQE when the op succeeds (5.17)
)

// Setup flags (IORING_SETUP_*), passed in [Options].Flags.
const (
	SetupIOPoll           = 1 << 0  // busy-poll for I/O completion (O_DIRECT only)
	SetupSQPoll           = 1 << 1  // a kernel thread polls the SQ
	SetupSQAff            = 1 << 2  // pin the SQPOLL thread to sq_thread_cpu
	SetupCQSize           = 1 << 3  // cq_entries is given by the caller
	SetupClamp            = 1 << 4  // clamp out-of-range sizes instead of failing
	SetupAttachWQ         = 1 << 5  // share the io-wq of the ring in wq_fd
	SetupRDisabled        = 1 << 6  // start disabled
	SetupSubmitAll        = 1 << 7  // keep submitting after an SQE fails
	SetupCoopTaskrun      = 1 << 8  // run completion task_work only on kernel entry (5.19)
	SetupTaskrunFlag      = 1 << 9  // set SQTaskrun when task_work is pending
	SetupSQE128           = 1 << 10 // 128-byte SQEs
	SetupCQE32            = 1 << 11 // 32-byte CQEs
	SetupSingleIssuer     = 1 << 12 // only one task submits (6.0)
	SetupDeferTaskrun     = 1 << 13 // run task_work only in io_uring_enter(GETEVENTS) (6.1)
	SetupNoMmap           = 1 << 14 // the application provides the ring memory (not supported here)
	SetupRegisteredFd     = 1 << 15 // the ring fd is registered only (not supported here)
	SetupNoSQArray        = 1 << 16 // no SQ index array; SQEs are used in ring order (6.6)
	defaultSetupFlags     = SetupSingleIssuer | SetupCoopTaskrun
	unsupportedSetupFlags = SetupNoMmap | SetupRegisteredFd
)

// Enter flags (IORING_ENTER_*) for [Ring.Enter].
const (
	EnterGetEvents      = 1 << 0 // wait for min_complete completions
	EnterSQWakeup       = 1 << 1 // wake the SQPOLL thread
	EnterSQWait         = 1 << 2 // wait for SQ space (SQPOLL)
	EnterExtArg         = 1 << 3 // arg is a struct io_uring_getevents_arg (5.11)
	EnterRegisteredRing = 1 << 4 // fd is a registered ring index
	EnterAbsTimer       = 1 << 5 // the ext-arg timeout is absolute
	EnterExtArgReg      = 1 << 6 // the ext arg lives in a registered region
)

// Feature bits (IORING_FEAT_*), reported by [Ring.Features].
const (
	FeatSingleMMap     = 1 << 0  // SQ and CQ rings share one mmap (5.4)
	FeatNoDrop         = 1 << 1  // overflowed CQEs are kept, not dropped (5.5)
	FeatSubmitStable   = 1 << 2  // submission data may be freed after enter (5.5)
	FeatRWCurPos       = 1 << 3  // offset -1 means the current file position
	FeatCurPersonality = 1 << 4  // ops run with the submitter's credentials (5.6)
	FeatFastPoll       = 1 << 5  // internal poll instead of io-wq for sockets and pipes (5.7)
	FeatPoll32Bits     = 1 << 6  // 32-bit poll masks (5.9)
	FeatSQPollNonfixed = 1 << 7  // SQPOLL works with unregistered files (5.11)
	FeatExtArg         = 1 << 8  // EnterExtArg (5.11)
	FeatNativeWorkers  = 1 << 9  // io-wq workers are threads of the process (5.12)
	FeatRsrcTags       = 1 << 10 // tagged resources (5.13)
	FeatCQESkip        = 1 << 11 // SQECQESkipSuccess (5.17)
	FeatLinkedFile     = 1 << 12 // linked ops open their files late (5.17)
	FeatRegRegRing     = 1 << 13 // register with a registered ring fd
	FeatRecvsendBundle = 1 << 14 // bundled send and recv
	FeatMinTimeout     = 1 << 15 // min-wait timeouts
	FeatRWAttr         = 1 << 16 // read/write attributes
	FeatNoIOWait       = 1 << 17 // waits need not count as iowait
)

// SQ ring flags, reported by [Ring.SQFlags].
const (
	SQNeedWakeup = 1 << 0 // the SQPOLL thread sleeps; enter with EnterSQWakeup
	SQCQOverflow = 1 << 1 // CQEs overflowed; enter with EnterGetEvents to flush them
	SQTaskrun    = 1 << 2 // task_work is pending; enter to run it
)

// CQE flags (IORING_CQE_F_*), in [CQE].Flags.
const (
	CQEFBuffer       = 1 << 0  // the upper 16 bits hold a buffer id
	CQEFMore         = 1 << 1  // a multishot op will post more CQEs
	CQEFSockNonempty = 1 << 2  // the socket has more data after this recv
	CQEFNotif        = 1 << 3  // a zero-copy send notification
	CQEFBufMore      = 1 << 4  // the buffer will get more completions
	CQEFSkip         = 1 << 5  // a padding CQE to be skipped
	CQEF32           = 1 << 15 // a 32-byte CQE in a mixed ring
	CQEBufferShift   = 16      // flags >> CQEBufferShift is the buffer id
)

// Timeout flags (IORING_TIMEOUT_*) for PrepTimeout and PrepLinkTimeout.
const (
	TimeoutAbs          = 1 << 0
	TimeoutUpdate       = 1 << 1
	TimeoutBoottime     = 1 << 2
	TimeoutRealtime     = 1 << 3
	LinkTimeoutUpdate   = 1 << 4
	TimeoutETimeSuccess = 1 << 5 // report expiry as res 0 instead of -ETIME
	TimeoutMultishot    = 1 << 6
)

// Cancel flags (IORING_ASYNC_CANCEL_*) for PrepCancel.
const (
	CancelAll      = 1 << 0 // cancel every match, res = count (5.19)
	CancelFd       = 1 << 1 // match on Fd instead of user_data (5.19)
	CancelAny      = 1 << 2 // match any request (5.19)
	CancelFdFixed  = 1 << 3 // Fd is a registered file index (6.0)
	CancelUserdata = 1 << 4 // match on user_data, the default (6.6)
	CancelOp       = 1 << 5 // match on opcode (6.6)
)

// FsyncDatasync makes FSYNC behave like fdatasync(2).
const FsyncDatasync = 1 << 0

// Poll flags (IORING_POLL_*). They go in the SQE's Len, not OpFlags,
// because OpFlags already holds the event mask.
const (
	PollAddMulti       = 1 << 0 // multishot: CQEFMore on every CQE but the last
	PollUpdateEvents   = 1 << 1
	PollUpdateUserData = 1 << 2
	PollAddLevel       = 1 << 3 // level-triggered
)
