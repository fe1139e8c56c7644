package trace

import (
	"slices"
	"testing"
)

func TestUnfinishedSyscalls(t *testing.T) {
	b := newTraceBuilder()
	begin := func(loop uint16, at int64, name string, fd int32) *traceBuilder {
		return b.add(Event{Loop: loop, Kind: KindSyscall, Phase: PhaseBegin, Time: at, Fd: fd}, name)
	}
	begin(0, 10, "read", 3)    // 0: returns (2)
	begin(1, 11, "connect", 7) // 1: never returns on loop 1
	b.syscall(0, 10, 5, "read", 3, 1)
	begin(0, 20, "read", 3) // 3: never returns: the record at 20 is for fd 4
	b.syscall(0, 20, 5, "read", 4, 1)
	b.syscall(1, 12, 5, "connect", 7, 0) // another call, begun at 12
	begin(0, 30, "write", 3)             // 6: returns (7)
	b.syscall(0, 30, 1, "write", 3, 1)
	if got, want := b.trace().UnfinishedSyscalls(), []int{1, 3}; !slices.Equal(got, want) {
		t.Errorf("UnfinishedSyscalls() = %v, want %v", got, want)
	}
	if got := newTraceBuilder().syscall(0, 1, 1, "read", 3, 1).trace().UnfinishedSyscalls(); got != nil {
		t.Errorf("UnfinishedSyscalls(no begins) = %v, want nil", got)
	}
}

func TestEpollEvents(t *testing.T) {
	for _, tt := range []struct {
		mask int64
		want string
	}{
		{0, "0"},
		{0x1, "EPOLLIN"},
		{0x4, "EPOLLOUT"},
		{0x1 | 0x4, "EPOLLIN|EPOLLOUT"},
		{0x4 | 0x8 | 0x10, "EPOLLOUT|EPOLLERR|EPOLLHUP"},
		{0x1 | 0x2000, "EPOLLIN|EPOLLRDHUP"},
		{0x1 | 0x800000, "EPOLLIN|0x800000"},
		{0x4000, "0x4000"},
	} {
		if got := EpollEvents(tt.mask); got != tt.want {
			t.Errorf("EpollEvents(%#x) = %q, want %q", tt.mask, got, tt.want)
		}
	}
}
