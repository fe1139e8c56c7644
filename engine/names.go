package engine

import "github.com/asynclab/asynclab/engine/trace"

// loopNames holds the names the loop records on hot paths, interned once.
type loopNames struct {
	runq, inflight, sqPending, cqReady trace.NameID
	epollWait, epollCtl, uringEnter    trace.NameID
	wake, cancel, writable, readable   trace.NameID
	ops                                [256]trace.NameID
	syscalls                           map[string]trace.NameID
}

// sys returns the id of a system call's name, interning it the first time.
// Only the loop's thread calls it.
func (n *loopNames) sys(r *trace.Recorder, name string) trace.NameID {
	id, ok := n.syscalls[name]
	if !ok {
		id = r.Intern(name)
		n.syscalls[name] = id
	}
	return id
}

func (n *loopNames) intern(r *trace.Recorder) {
	n.runq = r.Intern("runq")
	n.inflight = r.Intern("inflight")
	n.sqPending = r.Intern("sq_pending")
	n.cqReady = r.Intern("cq_ready")
	n.epollWait = r.Intern("epoll_wait")
	n.epollCtl = r.Intern("epoll_ctl")
	n.uringEnter = r.Intern("io_uring_enter")
	n.wake = r.Intern("wake")
	n.cancel = r.Intern("cancel")
	n.writable = r.Intern("writable")
	n.readable = r.Intern("readable")
	n.syscalls = make(map[string]trace.NameID)
	for k, s := range opNames {
		n.ops[k] = r.Intern(s)
	}
}

func (n *loopNames) op(k OpKind) trace.NameID { return n.ops[k] }
