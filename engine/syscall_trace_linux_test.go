package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/engine/trace"
)

// syncBuffer is a trace pipe the test can read while the stream writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TestBlockedConnectIsInTheTrace is the connect lesson's full-queue run: a
// handler makes a blocking connect to a listener whose accept queue is full,
// so the SYN is dropped and the call sleeps. While it sleeps, what the trace
// pipe holds (a stream cut off mid-call, without its end frame, as a killed
// run leaves it) already shows the connect's begin, and Analyze says the
// loop is stuck in it. Then the listener stops listening, the SYN's
// retransmission (a second after the first) is refused, the connect
// returns, and the trace holds the whole call once.
func TestBlockedConnectIsInTheTrace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		ln := newListener(t, 0)
		ln.fill(t)
		rec := trace.NewRecorder(0, 1<<16, time.Now())
		// The harness's own recorder, as exercises/kit has: the test writes
		// its "still waiting" marks there, which carry the trace's clock on
		// while the loop is stuck.
		harness := rec.ForLoop(1, 256)
		l := newLoopRec(t, kind, rec)
		var pipe syncBuffer
		streamCtx, stopStream := context.WithCancel(context.Background())
		streamed := make(chan error, 1)
		go func() {
			streamed <- trace.StreamAll(streamCtx, []*trace.Recorder{rec, harness}, &pipe, 2*time.Millisecond)
		}()

		fdc := make(chan int, 1)
		var returned atomic.Bool
		var connErr error
		ran := make(chan error, 1)
		go func() {
			ran <- l.Run(context.Background(), "main", func() {
				s := l.Sys()
				fd, err := s.Socket(sys.AF_INET, sys.SOCK_STREAM|sys.SOCK_CLOEXEC, 0) // blocking
				if err != nil {
					fdc <- -1
					return
				}
				fdc <- fd
				connErr = s.Connect(fd, ln.addr())
				returned.Store(true)
				s.Close(fd)
				l.Stop()
			})
		}()
		fd := <-fdc
		if fd < 0 {
			t.Fatal("socket failed")
		}

		// While the connect sleeps, decode what the pipe holds.
		var cut *trace.Trace
		var cutErr error
		for deadline := time.Now().Add(600 * time.Millisecond); time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			harness.Emit(trace.Event{Kind: trace.KindMark, Time: rec.Now(), Fd: -1, Name: harness.Intern("harness: still waiting")})
			harness.Flush()
			time.Sleep(10 * time.Millisecond) // a stream interval or more
			data := pipe.bytes()
			if returned.Load() {
				t.Fatalf("connect to a full accept queue returned early: %v", connErr)
			}
			cut, cutErr = trace.DecodePartial(bytes.NewReader(data), trace.DefaultLimits(), nil)
			if u := cut.UnfinishedSyscalls(); len(u) == 1 && time.Duration(cut.Events[len(cut.Events)-1].Time-cut.Events[u[0]].Time) > 100*time.Millisecond {
				break
			}
		}
		if !errors.Is(cutErr, io.ErrUnexpectedEOF) {
			t.Errorf("DecodePartial(the pipe mid-call) error = %v, want an unexpected EOF (no end frame yet)", cutErr)
		}
		u := cut.UnfinishedSyscalls()
		if len(u) != 1 {
			t.Fatalf("the pipe mid-call holds %d unfinished syscalls, want 1 (the connect); events:\n%s", len(u), dump(cut))
		}
		b := cut.Events[u[0]]
		if cut.Name(b.Name) != "connect" || b.Fd != int32(fd) || b.Loop != 0 || b.Phase != trace.PhaseBegin {
			t.Errorf("unfinished syscall = %s %s %q fd=%d loop %d, want the connect's begin on fd %d, loop 0", b.Kind, b.Phase, cut.Name(b.Name), b.Fd, b.Loop, fd)
		}
		var blocked, long *trace.Finding
		findings := trace.Analyze(cut, trace.LintOptions{})
		for i, f := range findings {
			switch {
			case f.Code == trace.LintBlockingCall && f.Seq == b.Seq:
				blocked = &findings[i]
			case f.Code == trace.LintLongHandler && f.Subject == "main":
				long = &findings[i]
			}
		}
		if blocked == nil || !strings.HasPrefix(blocked.Message, fmt.Sprintf("connect() on fd %d blocked the loop for ", fd)) ||
			!strings.HasSuffix(blocked.Message, " and never returned") || blocked.Blocker != "connect" || blocked.Subject != "main" {
			t.Errorf("Analyze(the pipe mid-call) = %+v, want a blocking-call finding: connect() on fd %d blocked the loop ... and never returned", findings, fd)
		}
		if long == nil || !strings.HasPrefix(long.Message, `handler "main" held the loop for `) || !strings.HasSuffix(long.Message, ", stuck in connect()") {
			t.Errorf("Analyze(the pipe mid-call) = %+v, want a long-handler finding for main, stuck in connect()", findings)
		}

		// Refuse the retransmitted SYN: the connect returns, the run ends,
		// and the whole trace has the call once: begin and record.
		if err := unix.Shutdown(ln.fd, unix.SHUT_RDWR); err != nil {
			t.Fatalf("shutdown(listener) = %v", err)
		}
		if err := <-ran; err != nil {
			t.Fatalf("Run = %v", err)
		}
		stopStream()
		if err := <-streamed; err != nil {
			t.Fatalf("StreamAll = %v", err)
		}
		if !errors.Is(connErr, sys.ECONNREFUSED) {
			t.Errorf("blocking connect to a listener that stopped listening = %v, want ECONNREFUSED", connErr)
		}
		full, err := trace.Decode(bytes.NewReader(pipe.bytes()), trace.DefaultLimits())
		if err != nil {
			t.Fatalf("Decode(the whole pipe) = %v", err)
		}
		if u := full.UnfinishedSyscalls(); len(u) != 0 {
			t.Errorf("UnfinishedSyscalls(whole trace) = %v, want none", u)
		}
		var phases []trace.Phase
		for _, e := range full.Events {
			if e.Kind == trace.KindSyscall && full.Name(e.Name) == "connect" {
				phases = append(phases, e.Phase)
				if e.Time != b.Time {
					t.Errorf("connect %s at %d, want both records at the begin's time %d", e.Phase, e.Time, b.Time)
				}
			}
		}
		if len(phases) != 2 || phases[0] != trace.PhaseBegin || phases[1] != trace.PhaseInstant {
			t.Errorf("connect records = %v, want [begin instant]", phases)
		}
		if s := trace.Summarize(full); s.Unfinished != 0 {
			t.Errorf("Summarize(whole trace).Unfinished = %d, want 0", s.Unfinished)
		}
	})
}

func dump(tr *trace.Trace) string {
	var b strings.Builder
	trace.WriteText(&b, tr, trace.TextOptions{})
	return b.String()
}

// TestReadyFromTheEpollBackend checks that the epoll backend records what
// its epoll_wait returned, as sys.EpollWait does for a handler's own epoll:
// one ready event per fd, with the mask and the loop's epoll fd, and none for
// the loop's internal wakeup. io_uring records none: readiness there is a
// POLL_ADD completion.
func TestReadyFromTheEpollBackend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
		l := newLoop(t, kind)
		tr := run(t, l, func() {
			buf := make([]byte, 8)
			l.Read(p[0], buf, -1).Then(func(int, error) { l.Stop() })
			go func() {
				l.Post("poke", func() {}) // wakes the loop through its eventfd
				time.Sleep(5 * time.Millisecond)
				unix.Write(p[1], []byte("x"))
			}()
		})
		var ready []trace.Event
		epfds := map[int32]bool{}
		for _, e := range tr.Events {
			switch {
			case e.Kind == trace.KindReady:
				ready = append(ready, e)
			case e.Kind == trace.KindSyscall && tr.Name(e.Name) == "epoll_wait":
				epfds[e.Fd] = true
			}
		}
		if kind == engine.Uring {
			if len(ready) != 0 {
				t.Errorf("io_uring recorded %d ready events, want 0", len(ready))
			}
			return
		}
		if len(ready) == 0 {
			t.Fatalf("no ready event in:\n%s", dump(tr))
		}
		for _, r := range ready {
			if r.Fd != int32(p[0]) || r.Arg0&unix.EPOLLIN == 0 || !epfds[int32(r.Arg1)] || tr.Name(r.Name) != "epoll_wait" {
				t.Errorf("ready = fd %d %s from epoll fd %d (%q), want fd %d with EPOLLIN from the loop's epoll fd %v",
					r.Fd, trace.EpollEvents(r.Arg0), r.Arg1, tr.Name(r.Name), p[0], epfds)
			}
		}
		var buf bytes.Buffer
		if err := trace.Encode(&buf, tr); err != nil {
			t.Fatal(err)
		}
		if _, err := trace.Decode(&buf, trace.DefaultLimits()); err != nil {
			t.Errorf("Decode(the epoll run's trace) = %v", err)
		}
	})
}
