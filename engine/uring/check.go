package uring

// Status says whether io_uring is usable on this host and, if not, exactly
// why. [Check] fills it in.
type Status struct {
	Available bool     // a restricted ring can be set up and every op in NeededOps is supported
	Reason    string   // why not, naming the cause; "" when Available
	Sysctl    string   // the value of /proc/sys/kernel/io_uring_disabled, or "" when the file is absent
	Features  uint32   // the ring's Feat* bits, when a ring could be set up
	Missing   []Opcode // the ops of NeededOps the kernel lacks
}
