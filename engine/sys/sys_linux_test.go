package sys_test

import (
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// TestRecorded makes real calls and checks each is recorded with its name,
// fd and result, the way the unix call returned it.
func TestRecorded(t *testing.T) {
	rec := trace.NewRecorder(0, 1024, time.Now())
	s := sys.New(rec, func() bool { return true })

	var p [2]int
	if err := s.Pipe2(p[:], sys.O_NONBLOCK|sys.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	n, err := s.Write(p[1], []byte("hi"))
	if n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	s.Read(p[0], buf)
	if _, err := s.Read(p[0], buf); err != sys.EAGAIN {
		t.Fatalf("Read on an empty non-blocking pipe = %v, want EAGAIN", err)
	}
	fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Connect(fd, &sys.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 1})
	if err != sys.ECONNREFUSED && err != sys.EINPROGRESS {
		t.Fatalf("Connect to port 1 = %v, want ECONNREFUSED or EINPROGRESS", err)
	}
	v, _ := s.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_ERROR)
	s.Close(fd)
	s.Close(p[0])
	s.Close(p[1])

	tr := rec.Snapshot()
	want := []struct {
		name string
		fd   int32
		res  int64
	}{
		{"pipe2", int32(p[0]), 0},
		{"write", int32(p[1]), 2},
		{"read", int32(p[0]), 2},
		{"read", int32(p[0]), -int64(sys.EAGAIN)},
		{"socket", int32(fd), int64(fd)},
		{"connect", int32(fd), -int64(err.(sys.Errno))},
		{"getsockopt", int32(fd), int64(v)},
		{"close", int32(fd), 0},
	}
	if len(tr.Events) < len(want) {
		t.Fatalf("recorded %d events, want at least %d", len(tr.Events), len(want))
	}
	for i, w := range want {
		e := tr.Events[i]
		if e.Kind != trace.KindSyscall || tr.Name(e.Name) != w.name || e.Fd != w.fd || e.Res != w.res {
			t.Errorf("event %d = %s %s fd=%d res=%d, want syscall %s fd=%d res=%d",
				i, e.Kind, tr.Name(e.Name), e.Fd, e.Res, w.name, w.fd, w.res)
		}
		if e.Dur < 0 {
			t.Errorf("event %d has negative duration %d", i, e.Dur)
		}
	}
	if ev := tr.Events[6]; ev.Arg0 != sys.SO_ERROR {
		t.Errorf("getsockopt Arg0 = %d, want SO_ERROR (%d)", ev.Arg0, sys.SO_ERROR)
	}
}

// TestOffLoopGoesThroughForeignQueue checks that a call made off the loop
// is still recorded, after the loop's next Flush.
func TestOffLoopGoesThroughForeignQueue(t *testing.T) {
	rec := trace.NewRecorder(0, 64, time.Now())
	s := sys.New(rec, func() bool { return false })
	fd, err := s.Eventfd(0, sys.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	s.Close(fd)
	if n := len(rec.Drain(nil)); n != 0 {
		t.Fatalf("%d events visible before Flush, want 0 (off-loop events wait for the loop)", n)
	}
	rec.Flush()
	if n := len(rec.Drain(nil)); n != 2 {
		t.Errorf("%d events after Flush, want 2", n)
	}
}
