// Package wire is the values the batching harness reports and its checks read: the names both sides of the
// trace use. It is a leaf, so that the grader's side builds on any platform.
package wire

// Names of the values the harness reports. Per-call values are formatted
// with the call's index, from 0.
const (
	ValueCalls      = "calls"              // how many times the handler was called
	ValueLoopRingFd = "loop_ring_fd"       // the loop's own ring, whose enters are not the handler's (-1: none)
	ValueReads      = "call%d_reads"       // reads asked for in the call
	ValueNops       = "call%d_nops"        // NOPs asked for in the call
	ValueStart      = "call%d_start"       // ns since the run started, just before the call
	ValueEnd        = "call%d_end"         // ns, when done was called; missing if it never was
	ValueErr        = "call%d_err"         // 1 if done was called with an error
	ValueLen        = "call%d_len"         // len(data) given to done
	ValueBad        = "call%d_bad"         // reads whose bytes differ from the file
	ValueFirstBad   = "call%d_first"       // index of the first wrong read, or -1
	ValueCPU        = "call%d_cpu"         // a timed call's CPU time on the loop thread, ns
	ValueBaseCPU    = "timed%d_base"       // the baseline's CPU time next to timed call %d, ns
	ValueBaseStart  = "timed%d_base_start" // ns, when that baseline started
	ValueBaseEnd    = "timed%d_base_end"   // ns, when it ended
	ValueHandlerCPU = "handler_cpu"        // the fastest timed call, ns
	ValueBaseline   = "baseline_cpu"       // the fastest baseline, ns
	ValueSpeedup    = "speedup"            // baseline_cpu / handler_cpu
	ValuePredicted  = "bstar_predicted"
	ValueMeasured   = "bstar_measured" // smallest swept B whose ring READ beats ppoll+read; 0: none up to 64
	ValueVsRead     = "bstar_vs_read"  // the same against a bare read(2)
	ValueSyscall    = "ts_plus_tk_ns"  // read(2) of 1 byte from /dev/zero
	ValueClassic    = "classic_ns"     // ppoll(2) + read(2): the classic op of the seed's model
	ValueEnter      = "tk_ns"          // an io_uring_enter that submits and waits for nothing
	ValueTs         = "ts_ns"          // the read's own work: ts_plus_tk - tk
	ValueTr         = "tr_ns"          // per extra NOP in one batch: the slope of a NOP batch's time
	ValueTrRead     = "tr_read_ns"     // per extra READ of /dev/zero in one batch
	ValueFixedRead  = "a_read_ns"      // fixed cost of one batch of READs: one enter and its bookkeeping
	ValueRingRead   = "ring_read_ns_b%d"
)
