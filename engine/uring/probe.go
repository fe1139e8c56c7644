package uring

// Probe is the result of IORING_REGISTER_PROBE: which opcodes the running
// kernel implements. Get one from Ring.Probe.
type Probe struct {
	lastOp Opcode
	ops    [256]bool
}

// probeOpSupported is IO_URING_OP_SUPPORTED in io_uring_probe_op.flags.
const probeOpSupported = 1 << 0

// Supported reports whether the kernel implements op.
func (p *Probe) Supported(op Opcode) bool {
	return p.ops[op]
}

// LastOp returns the highest opcode the kernel knows.
func (p *Probe) LastOp() Opcode {
	return p.lastOp
}
