package uring

import (
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof SQE", unsafe.Sizeof(SQE{}), 64},
		{"sizeof CQE", unsafe.Sizeof(CQE{}), 16},
		{"sizeof Timespec", unsafe.Sizeof(Timespec{}), 16},
		{"SQE.Flags", unsafe.Offsetof(SQE{}.Flags), 1},
		{"SQE.Ioprio", unsafe.Offsetof(SQE{}.Ioprio), 2},
		{"SQE.Fd", unsafe.Offsetof(SQE{}.Fd), 4},
		{"SQE.Off", unsafe.Offsetof(SQE{}.Off), 8},
		{"SQE.Addr", unsafe.Offsetof(SQE{}.Addr), 16},
		{"SQE.Len", unsafe.Offsetof(SQE{}.Len), 24},
		{"SQE.OpFlags", unsafe.Offsetof(SQE{}.OpFlags), 28},
		{"SQE.UserData", unsafe.Offsetof(SQE{}.UserData), 32},
		{"SQE.BufIndex", unsafe.Offsetof(SQE{}.BufIndex), 40},
		{"SQE.Personality", unsafe.Offsetof(SQE{}.Personality), 42},
		{"SQE.SpliceFdIn", unsafe.Offsetof(SQE{}.SpliceFdIn), 44},
		{"SQE.Addr3", unsafe.Offsetof(SQE{}.Addr3), 48},
		{"CQE.Res", unsafe.Offsetof(CQE{}.Res), 8},
		{"CQE.Flags", unsafe.Offsetof(CQE{}.Flags), 12},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestOpcodeString(t *testing.T) {
	tests := []struct {
		op   Opcode
		want string
	}{
		{OpNop, "NOP"},
		{OpReadv, "READV"},
		{OpWritev, "WRITEV"},
		{OpFsync, "FSYNC"},
		{OpPollAdd, "POLL_ADD"},
		{OpPollRemove, "POLL_REMOVE"},
		{OpTimeout, "TIMEOUT"},
		{OpTimeoutRemove, "TIMEOUT_REMOVE"},
		{OpAccept, "ACCEPT"},
		{OpAsyncCancel, "ASYNC_CANCEL"},
		{OpLinkTimeout, "LINK_TIMEOUT"},
		{OpConnect, "CONNECT"},
		{OpClose, "CLOSE"},
		{OpRead, "READ"},
		{OpWrite, "WRITE"},
		{OpSend, "SEND"},
		{OpRecv, "RECV"},
		{Opcode(61), "WRITEV_FIXED"},
		{Opcode(200), "OP(200)"},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("Opcode(%d).String() = %q, want %q", uint8(tt.op), got, tt.want)
		}
	}
}

func TestNewTimespec(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want Timespec
	}{
		{0, Timespec{}},
		{10 * time.Millisecond, Timespec{Nsec: 10_000_000}},
		{2500 * time.Millisecond, Timespec{Sec: 2, Nsec: 500_000_000}},
		{-time.Second, Timespec{}},
	}
	for _, tt := range tests {
		if got := NewTimespec(tt.d); got != tt.want {
			t.Errorf("NewTimespec(%v) = %+v, want %+v", tt.d, got, tt.want)
		}
	}
}

// TestPrep checks that each helper sets exactly the fields liburing's
// io_uring_prep_* sets, starting from a zeroed SQE.
func TestPrep(t *testing.T) {
	ts := &Timespec{Sec: 1}
	tsAddr := uint64(uintptr(unsafe.Pointer(ts)))
	tests := []struct {
		name string
		prep func(*SQE)
		want SQE
	}{
		{"nop", func(s *SQE) { s.PrepNop() },
			SQE{Opcode: uint8(OpNop), Fd: -1}},
		{"read", func(s *SQE) { s.PrepRead(3, 0x1000, 512, 7) },
			SQE{Opcode: uint8(OpRead), Fd: 3, Addr: 0x1000, Len: 512, Off: 7}},
		{"write cur pos", func(s *SQE) { s.PrepWrite(4, 0x2000, 8, ^uint64(0)) },
			SQE{Opcode: uint8(OpWrite), Fd: 4, Addr: 0x2000, Len: 8, Off: ^uint64(0)}},
		{"readv", func(s *SQE) { s.PrepReadv(3, 0x1000, 2, 9) },
			SQE{Opcode: uint8(OpReadv), Fd: 3, Addr: 0x1000, Len: 2, Off: 9}},
		{"writev", func(s *SQE) { s.PrepWritev(3, 0x1000, 2, 9) },
			SQE{Opcode: uint8(OpWritev), Fd: 3, Addr: 0x1000, Len: 2, Off: 9}},
		{"recv", func(s *SQE) { s.PrepRecv(5, 0x3000, 500, 0x100) },
			SQE{Opcode: uint8(OpRecv), Fd: 5, Addr: 0x3000, Len: 500, OpFlags: 0x100}},
		{"send", func(s *SQE) { s.PrepSend(5, 0x3000, 100, 0x4000) },
			SQE{Opcode: uint8(OpSend), Fd: 5, Addr: 0x3000, Len: 100, OpFlags: 0x4000}},
		{"connect", func(s *SQE) { s.PrepConnect(6, 0x4000, 16) },
			SQE{Opcode: uint8(OpConnect), Fd: 6, Addr: 0x4000, Off: 16}},
		{"accept", func(s *SQE) { s.PrepAccept(7, 0x5000, 0x6000, 0x80000) },
			SQE{Opcode: uint8(OpAccept), Fd: 7, Addr: 0x5000, Off: 0x6000, OpFlags: 0x80000}},
		{"poll add", func(s *SQE) { s.PrepPollAdd(8, 1) },
			SQE{Opcode: uint8(OpPollAdd), Fd: 8, OpFlags: pollMask(1)}},
		{"poll remove", func(s *SQE) { s.PrepPollRemove(42) },
			SQE{Opcode: uint8(OpPollRemove), Fd: -1, Addr: 42}},
		{"timeout", func(s *SQE) { s.PrepTimeout(ts, 3, TimeoutAbs) },
			SQE{Opcode: uint8(OpTimeout), Fd: -1, Addr: tsAddr, Len: 1, Off: 3, OpFlags: TimeoutAbs}},
		{"timeout remove", func(s *SQE) { s.PrepTimeoutRemove(42, 0) },
			SQE{Opcode: uint8(OpTimeoutRemove), Fd: -1, Addr: 42}},
		{"link timeout", func(s *SQE) { s.PrepLinkTimeout(ts, 0) },
			SQE{Opcode: uint8(OpLinkTimeout), Fd: -1, Addr: tsAddr, Len: 1}},
		{"cancel", func(s *SQE) { s.PrepCancel(42, CancelAll) },
			SQE{Opcode: uint8(OpAsyncCancel), Fd: -1, Addr: 42, OpFlags: CancelAll}},
		{"fsync", func(s *SQE) { s.PrepFsync(9, FsyncDatasync) },
			SQE{Opcode: uint8(OpFsync), Fd: 9, OpFlags: FsyncDatasync}},
		{"close", func(s *SQE) { s.PrepClose(10) },
			SQE{Opcode: uint8(OpClose), Fd: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got SQE
			tt.prep(&got)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(SQE{})); diff != "" {
				t.Errorf("SQE mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
