package uring

// RegisterOp is an io_uring_register(2) opcode (enum io_uring_register_op
// in include/uapi/linux/io_uring.h).
type RegisterOp uint8

// The register opcodes this package issues or names in a [Restrictions].
const (
	RegisterProbe        RegisterOp = 8  // IORING_REGISTER_PROBE (5.6)
	RegisterRestrictions RegisterOp = 11 // IORING_REGISTER_RESTRICTIONS (5.10)
	RegisterEnableRings  RegisterOp = 12 // IORING_REGISTER_ENABLE_RINGS (5.10)
	RegisterIOWQAff      RegisterOp = 17 // IORING_REGISTER_IOWQ_AFF (5.14)
	UnregisterIOWQAff    RegisterOp = 18 // IORING_UNREGISTER_IOWQ_AFF (5.14)
)

// Restrictions is what a restricted ring may do once it is enabled
// (IORING_REGISTER_RESTRICTIONS, Linux 5.10). Everything it does not list
// is refused: an SQE with another opcode, or with an SQE flag outside
// SQEFlags|RequiredSQEFlags, or without every flag of RequiredSQEFlags,
// completes with -EACCES and does nothing; an io_uring_register opcode
// not in RegisterOps fails with EACCES. A ring's restrictions are fixed
// for its life.
//
// Restrictions bind a ring, not a process: a program that can call
// io_uring_setup can make an unrestricted ring of its own. [ForbidNewRings]
// closes that path.
type Restrictions struct {
	Ops              []Opcode     // SQE opcodes allowed
	SQEFlags         uint8        // SQE* flags an SQE may carry
	RequiredSQEFlags uint8        // SQE* flags every SQE must carry; usually 0
	RegisterOps      []RegisterOp // io_uring_register opcodes allowed once the ring is enabled
}

// The IORING_RESTRICTION_* kinds of a struct io_uring_restriction
// (include/uapi/linux/io_uring.h, Linux 5.10). golang.org/x/sys/unix does
// not define them.
const (
	restrictionRegisterOp       = 0 // IORING_RESTRICTION_REGISTER_OP
	restrictionSQEOp            = 1 // IORING_RESTRICTION_SQE_OP
	restrictionSQEFlagsAllowed  = 2 // IORING_RESTRICTION_SQE_FLAGS_ALLOWED
	restrictionSQEFlagsRequired = 3 // IORING_RESTRICTION_SQE_FLAGS_REQUIRED
)

// restriction is struct io_uring_restriction (16 bytes,
// include/uapi/linux/io_uring.h): a u16 kind, then a u8 that is the
// register_op, sqe_op or sqe_flags the kind names, and reserved bytes the
// kernel wants zero.
type restriction struct {
	Opcode uint16
	Arg    uint8 // register_op, sqe_op or sqe_flags
	_      uint8
	_      [3]uint32
}

// entries returns rs as the array IORING_REGISTER_RESTRICTIONS reads. Both
// flag entries are always present, so that "no flags" is said, not
// implied.
func (rs *Restrictions) entries() []restriction {
	out := make([]restriction, 0, len(rs.Ops)+len(rs.RegisterOps)+2)
	for _, op := range rs.Ops {
		out = append(out, restriction{Opcode: restrictionSQEOp, Arg: uint8(op)})
	}
	for _, op := range rs.RegisterOps {
		out = append(out, restriction{Opcode: restrictionRegisterOp, Arg: uint8(op)})
	}
	return append(out,
		restriction{Opcode: restrictionSQEFlagsAllowed, Arg: rs.SQEFlags},
		restriction{Opcode: restrictionSQEFlagsRequired, Arg: rs.RequiredSQEFlags})
}
