package sys_test

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	begin, done := trace.PhaseBegin, trace.PhaseInstant
	want := []struct {
		name  string
		phase trace.Phase
		fd    int32
		res   int64
	}{
		{"pipe2", done, int32(p[0]), 0},
		{"write", begin, int32(p[1]), 0},
		{"write", done, int32(p[1]), 2},
		{"read", begin, int32(p[0]), 0},
		{"read", done, int32(p[0]), 2},
		{"read", begin, int32(p[0]), 0},
		{"read", done, int32(p[0]), -int64(sys.EAGAIN)},
		{"socket", done, int32(fd), int64(fd)},
		{"connect", begin, int32(fd), 0},
		{"connect", done, int32(fd), -int64(err.(sys.Errno))},
		{"getsockopt", done, int32(fd), int64(v)},
		{"close", done, int32(fd), 0},
	}
	if len(tr.Events) < len(want) {
		t.Fatalf("recorded %d events, want at least %d", len(tr.Events), len(want))
	}
	for i, w := range want {
		e := tr.Events[i]
		if e.Kind != trace.KindSyscall || e.Phase != w.phase || tr.Name(e.Name) != w.name || e.Fd != w.fd || e.Res != w.res {
			t.Errorf("event %d = %s %s %s fd=%d res=%d, want syscall %s %s fd=%d res=%d",
				i, e.Kind, e.Phase, tr.Name(e.Name), e.Fd, e.Res, w.phase, w.name, w.fd, w.res)
		}
		if e.Dur < 0 || (e.Phase == begin && e.Dur != 0) {
			t.Errorf("event %d (%s %s) has duration %d", i, w.name, w.phase, e.Dur)
		}
		if e.Phase == begin && tr.Events[i+1].Time != e.Time {
			t.Errorf("event %d: %s begins at %d, its record says %d", i, w.name, e.Time, tr.Events[i+1].Time)
		}
	}
	if ev := tr.Events[10]; ev.Arg0 != sys.SO_ERROR {
		t.Errorf("getsockopt Arg0 = %d, want SO_ERROR (%d)", ev.Arg0, sys.SO_ERROR)
	}
	if u := tr.UnfinishedSyscalls(); len(u) != 0 {
		t.Errorf("UnfinishedSyscalls() = %v, want none: every call returned", u)
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

// loopThread stands for a loop: it runs fn on a goroutine locked to its
// own OS thread, and onLoop reports whether the caller is on that thread,
// as Loop.OnLoop does.
type loopThread struct{ tid atomic.Int64 }

func (lt *loopThread) onLoop() bool {
	t := lt.tid.Load()
	return t != 0 && int64(unix.Gettid()) == t
}

func (lt *loopThread) start(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		lt.tid.Store(int64(unix.Gettid()))
		defer lt.tid.Store(0)
		fn()
	}()
	return done
}

// TestBeginIsPublishedBeforeTheCall blocks the loop thread in a read of an
// empty pipe and checks that the reader of the trace sees the read begin
// while the thread is still inside it, without any Flush of the loop's.
func TestBeginIsPublishedBeforeTheCall(t *testing.T) {
	rec := trace.NewRecorder(0, 1024, time.Now())
	var lt loopThread
	s := sys.New(rec, lt.onLoop)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil { // blocking on purpose
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])

	done := lt.start(func() {
		var b [8]byte
		s.Read(p[0], b[:])
	})
	var seen []trace.Event
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) == 0 && time.Now().Before(deadline) {
		seen = rec.Drain(seen)
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("read of an empty blocking pipe returned")
	default:
	}
	if len(seen) != 1 {
		t.Fatalf("while the read blocks the reader sees %d events, want 1 (its begin)", len(seen))
	}
	tr := &trace.Trace{Names: rec.NamesSince(0), Events: seen}
	if e := seen[0]; e.Kind != trace.KindSyscall || e.Phase != trace.PhaseBegin || tr.Name(e.Name) != "read" || e.Fd != int32(p[0]) {
		t.Errorf("event while blocked = %s %s %q fd=%d, want syscall begin \"read\" fd=%d", e.Kind, e.Phase, tr.Name(e.Name), e.Fd, p[0])
	}
	if u := tr.UnfinishedSyscalls(); len(u) != 1 || u[0] != 0 {
		t.Errorf("UnfinishedSyscalls() while blocked = %v, want [0]", u)
	}

	unix.Write(p[1], []byte("x"))
	<-done
	rec.Flush() // the loop thread has ended: no one else emits
	tr.Events = rec.Drain(tr.Events)
	if len(tr.Events) != 2 || tr.Events[1].Phase != trace.PhaseInstant || tr.Events[1].Res != 1 {
		t.Fatalf("after the read returned: %+v, want its begin and its record with res 1", tr.Events)
	}
	if u := tr.UnfinishedSyscalls(); len(u) != 0 {
		t.Errorf("UnfinishedSyscalls() after the read returned = %v, want none", u)
	}
}

// TestEpollWaitRecordsReady waits on the handler's own epoll instance with
// EPOLLONESHOT, the way only a handler's own epoll can, and checks that
// what epoll_wait returned is in the trace: once, since one-shot disarms.
func TestEpollWaitRecordsReady(t *testing.T) {
	rec := trace.NewRecorder(0, 1024, time.Now())
	s := sys.New(rec, func() bool { return true })
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	epfd, err := s.EpollCreate1(sys.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	ev := sys.EpollEvent{Events: sys.EPOLLOUT | sys.EPOLLONESHOT, Fd: int32(fds[0])}
	if err := s.EpollCtl(epfd, sys.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
		t.Fatal(err)
	}
	events := make([]sys.EpollEvent, 4)
	if n, err := s.EpollWait(epfd, events, 1000); n != 1 || err != nil {
		t.Fatalf("EpollWait on a writable socket = %d, %v; want 1", n, err)
	}
	if n, err := s.EpollWait(epfd, events, 0); n != 0 || err != nil {
		t.Fatalf("EpollWait after EPOLLONESHOT fired = %d, %v; want 0 (disarmed)", n, err)
	}

	tr := rec.Snapshot()
	var ready []trace.Event
	for _, e := range tr.Events {
		if e.Kind == trace.KindReady {
			ready = append(ready, e)
		}
	}
	if len(ready) != 1 {
		t.Fatalf("%d ready events, want 1 (one-shot fires once):\n%+v", len(ready), tr.Events)
	}
	r := ready[0]
	if r.Fd != int32(fds[0]) || r.Arg0&unix.EPOLLOUT == 0 || r.Arg1 != int64(epfd) || tr.Name(r.Name) != "epoll_wait" {
		t.Errorf("ready = fd %d mask %s epfd %d name %q, want fd %d with EPOLLOUT from epoll fd %d, named epoll_wait",
			r.Fd, trace.EpollEvents(r.Arg0), r.Arg1, tr.Name(r.Name), fds[0], epfd)
	}
	// It follows the epoll_wait that returned it, at the time it returned.
	for i, e := range tr.Events {
		if e.Kind == trace.KindReady {
			w := tr.Events[i-1]
			if w.Kind != trace.KindSyscall || tr.Name(w.Name) != "epoll_wait" || w.Res != 1 || e.Time != w.Time+w.Dur {
				t.Errorf("ready follows %s %q res=%d ending at %d, want epoll_wait res=1 ending at %d", w.Kind, tr.Name(w.Name), w.Res, w.Time+w.Dur, e.Time)
			}
		}
	}
	var buf bytes.Buffer
	if err := trace.Encode(&buf, tr); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.Decode(&buf, trace.DefaultLimits()); err != nil {
		t.Errorf("Decode(a trace with begins and ready events) = %v", err)
	}
}

func TestEpollWaitReadyAllocs(t *testing.T) {
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	s := sys.New(rec, func() bool { return true })
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	epfd, _ := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	defer unix.Close(epfd)
	unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fds[0], &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fds[0])})
	events := make([]sys.EpollEvent, 4)
	var b [1]byte
	drained := make([]trace.Event, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		s.EpollWait(epfd, events, 0)
		s.Read(fds[0], b[:]) // EAGAIN
		drained = rec.Drain(drained[:0])
	})
	if allocs != 0 {
		t.Errorf("EpollWait and Read allocate %v times per call, want 0", allocs)
	}
}

// BenchmarkTracedRead compares a traced read as it is now (sys.Read: a
// begin, published, then the record) with the record alone, as sys.Read made
// it before begins existed, and with the bare call. The read is an EAGAIN on an
// empty non-blocking pipe, the cheapest read there is, so the ratios are the
// worst case. A fourth variant records the begin without publishing it, to
// tell the cost of the extra event from the cost of the Flush. The four run
// in turns of 1000 calls on one loop thread, so that load on the machine
// weighs on all alike; the metrics are each one's ns per call and the
// ratios begin/record, published/unpublished and record/bare.
func BenchmarkTracedRead(b *testing.B) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	rec := trace.NewRecorder(0, 1<<16, time.Now())
	var lt loopThread
	s := sys.New(rec, lt.onLoop)
	name := rec.Intern("read")
	stop := make(chan struct{})
	drained := make(chan struct{})
	go func() { // the trace's reader, as trace.Stream drains
		defer close(drained)
		var evs []trace.Event
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				evs = rec.Drain(evs[:0])
			}
		}
	}()
	var buf [8]byte
	variants := []func(){
		func() { unix.Read(p[0], buf[:]) },
		func() {
			// What sys.Read did before begins: the clock, the call, then
			// one record.
			t := rec.Now()
			n, err := unix.Read(p[0], buf[:])
			end := rec.Now()
			res := int64(n)
			if err != nil {
				res = -int64(err.(unix.Errno))
			}
			e := trace.Event{Kind: trace.KindSyscall, Time: t, Dur: end - t, Name: name, Fd: int32(p[0]), Res: res, Arg0: 8}
			if lt.onLoop() {
				rec.Emit(e)
			} else {
				rec.EmitForeign(e)
			}
		},
		func() {
			// The begin without publishing it: what the Flush costs.
			on := lt.onLoop()
			t := rec.Now()
			rec.Emit(trace.Event{Kind: trace.KindSyscall, Phase: trace.PhaseBegin, Time: t, Name: name, Fd: int32(p[0])})
			n, err := unix.Read(p[0], buf[:])
			end := rec.Now()
			res := int64(n)
			if err != nil {
				res = -int64(err.(unix.Errno))
			}
			e := trace.Event{Kind: trace.KindSyscall, Time: t, Dur: end - t, Name: name, Fd: int32(p[0]), Res: res, Arg0: 8}
			if on {
				rec.Emit(e)
			} else {
				rec.EmitForeign(e)
			}
		},
		func() { s.Read(p[0], buf[:]) },
	}
	var spent [4]time.Duration
	var calls [4]int
	const turn = 1000
	<-lt.start(func() {
		b.ResetTimer()
		for left := b.N; left > 0; {
			for v, fn := range variants {
				n := min(turn, left)
				t0 := time.Now()
				for range n {
					fn()
				}
				spent[v] += time.Since(t0)
				calls[v] += n
				left -= n
				if left == 0 {
					break
				}
			}
		}
		b.StopTimer()
	})
	close(stop)
	<-drained
	per := func(v int) float64 { return float64(spent[v].Nanoseconds()) / float64(max(calls[v], 1)) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per(0), "ns/bare")
	b.ReportMetric(per(1), "ns/record")
	b.ReportMetric(per(2), "ns/unpublished")
	b.ReportMetric(per(3), "ns/begin+record")
	if per(1) > 0 && per(0) > 0 {
		b.ReportMetric(per(3)/per(1), "begin/record")
		b.ReportMetric(per(3)/per(2), "published/unpublished")
		b.ReportMetric(per(1)/per(0), "record/bare")
	}
}
