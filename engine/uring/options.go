package uring

// DefaultEntries is the SQ size Setup asks for when Options.Entries is 0.
const DefaultEntries = 256

// Options configures Setup. The zero value asks for DefaultEntries SQEs.
type Options struct {
	Entries      uint32 // SQ entries, rounded up by the kernel to a power of two; default 256
	CQEntries    uint32 // 0 = kernel default (2*Entries); otherwise sets SetupCQSize
	Flags        uint32 // extra setup flags; 0 means SetupSingleIssuer|SetupCoopTaskrun when the kernel has them
	SQThreadIdle uint32 // with SetupSQPoll: milliseconds the poll thread spins before sleeping

	// Restrict, when set, makes a restricted ring: Setup adds
	// SetupRDisabled, registers these restrictions and enables the ring,
	// so that no SQE is ever accepted unrestricted. Kernels before 5.10
	// cannot, and Setup fails rather than return a ring without them.
	Restrict *Restrictions
}
