// Package child is the head-of-line exercise's harness inside the sandbox:
// it delivers requests that carry CPU work to the handler, one callback per
// request, at the times the scenario gives, supplies the work function,
// checks every response, and records in the trace when each request
// arrived, when each unit of work ran and on which thread, and each answer.
package child

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynclab/asynclab/exercises/headofline/wire"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements.
type Handler = func(l *engine.Loop, id, units int, work func(n int) uint64, respond func(result uint64))

// request is one request and the state of its work. The work may be done
// on any goroutine, so it is guarded; the answers are counted on the loop.
type request struct {
	id, units int
	due       time.Duration // when it arrives, on the loop's clock

	mu    sync.Mutex
	state uint64
	done  int

	answers int // loop only
}

// server delivers the requests and checks the answers.
type server struct {
	e         *kit.Env
	l         *engine.Loop
	h         Handler
	rec       *trace.Recorder
	iters     int // burn iterations in one unit of work
	reqs      []*request
	arrived   int
	answered  int // requests answered at least once
	wrong     int
	twice     int
	over      bool         // the harness has reported
	lateWaits int          // how often a late give-up waited again
	progress  atomic.Int64 // when a request was last answered or a unit done, or the run started (ns)
	lostThen  atomic.Int64 // the loop's Lost at progress (ns)
}

// Main runs h against the scenario's requests.
func Main(h Handler) {
	kit.Main(func(e *kit.Env) {
		s := &server{e: e, l: e.Loop, h: h, rec: e.Recorder}
		s.start()
	})
}

func (s *server) start() {
	a := s.e.Args
	s.iters = calibrate(s.l)
	s.e.Value("iterations_per_unit", float64(s.iters))

	burst, stream := wire.Units(a.Param(wire.ParamBurst)), wire.Units(a.Param(wire.ParamStream))
	every := a.Duration(wire.ParamEvery, 15*time.Millisecond)
	now := s.l.Now()
	for i, u := range append(burst, stream...) {
		due := now
		if i >= len(burst) {
			due += time.Duration(i-len(burst)+1) * every
		}
		id := i + 1
		s.reqs = append(s.reqs, &request{id: id, units: u, due: due, state: seed(id)})
	}
	for _, r := range s.reqs {
		name := fmt.Sprintf("req %d (%s)", r.id, wire.FormatUnits(r.units))
		if r.due == now {
			s.l.Queue(name, func() { s.deliver(r) })
		} else {
			s.l.AfterFunc(name, r.due-now, func() { s.deliver(r) })
		}
	}
	s.madeProgress(now)
	s.waitForAnswers()
}

// madeProgress notes progress at now, and how much time the loop had lost
// by then.
func (s *server) madeProgress(now time.Duration) {
	s.progress.Store(int64(now))
	s.lostThen.Store(int64(s.l.Lost()))
}

// waitForAnswers arms the give-up: the run ends with what is missing once
// no request has been answered and no unit of work done for the
// scenario's "giveup". One timer, put off when it finds progress since it
// was armed, keeps the trace free of a timer per answer.
//
// A give-up that finds the loop was kept from running for more than a
// quarter of "giveup" since the last progress waits again, at most
// maxLateWaits times: the handler did not have that time either. The loop
// counts what it lost ([engine.Loop.Lost]): a whole box kept off the CPU
// (once, beside a full CI run, a timer due in 0.1 ms fired 2.8 s later; on
// a machine with only two CPU hogs, a 5 ms wait once took 2.08 s just
// before the give-up was due). A give-up that itself runs that late, for
// instance behind a callback that held the loop, waits again too. The
// scenario's wall-clock Timeout still bounds the run.
func (s *server) waitForAnswers() {
	giveUp := s.e.Args.Duration(wire.ParamGiveUp, 2*time.Second)
	due := time.Duration(s.progress.Load()) + giveUp
	s.e.Harness().AfterFunc("harness: give up", max(due-s.l.Now(), 0), func() {
		now := s.l.Now()
		if now-time.Duration(s.progress.Load()) < giveUp {
			s.waitForAnswers()
			return
		}
		kept := max(now-due, s.l.Lost()-time.Duration(s.lostThen.Load()))
		if kept > giveUp/4 && s.lateWaits < maxLateWaits {
			s.lateWaits++
			s.madeProgress(now)
			s.waitForAnswers()
			return
		}
		s.finish()
	})
}

// maxLateWaits bounds how often a late give-up waits again.
const maxLateWaits = 3

// deliver hands r to the handler, in a callback of its own.
func (s *server) deliver(r *request) {
	now := s.l.Now()
	s.mark(fmt.Sprintf("%sreq %d with %s of work", wire.MarkArrive, r.id, wire.FormatUnits(r.units)), r.id, int64(r.units), now, now-r.due)
	s.arrived++
	s.h(s.l, r.id, r.units, func(n int) uint64 { return s.work(r, n) }, func(v uint64) { s.respond(r, v) })
}

// work does the next n units of r's work (fewer if fewer are left) and
// returns the result so far. It is safe for concurrent use.
func (s *server) work(r *request, n int) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(n, r.units-r.done)
	if n <= 0 {
		return r.state
	}
	if !s.l.OnLoop() {
		// Off the loop, each unit is marked on its own, so the checks
		// know when each was really done. A call's start and end alone
		// would spread its units over the whole call, and a call the
		// box's CPU quota held off for 40 ms would seem to have done a
		// share of them while the loop's thread sat through the same
		// throttling, asleep in the Go scheduler, waiting for no one.
		text := fmt.Sprintf("%sreq %d: 1 unit", wire.MarkWorkOff, r.id)
		for range n {
			start := s.l.Now()
			r.state = burn(r.state, s.iters)
			r.done++
			end := s.l.Now()
			s.madeProgress(end)
			s.rec.EmitForeign(s.event(text, r.id, 1, start, end-start))
		}
		return r.state
	}
	start := s.l.Now()
	for i := 0; i < n; i++ {
		r.state = burn(r.state, s.iters)
	}
	r.done += n
	end := s.l.Now()
	s.madeProgress(end)
	s.mark(fmt.Sprintf("%sreq %d: %s", wire.MarkWork, r.id, wire.FormatUnits(n)), r.id, int64(n), start, end-start)
	return r.state
}

// respond checks an answer. Called off the loop, it records the mistake
// and hands the answer to the loop, as Future.Resolve does: the harness's
// state belongs to the loop.
func (s *server) respond(r *request, v uint64) {
	if !s.l.OnLoop() {
		s.rec.EmitForeign(trace.Event{Kind: trace.KindLint, Time: s.rec.Now(), Arg0: int64(trace.LintOffLoop), Fd: -1,
			Name: s.rec.Intern(fmt.Sprintf("respond for req %d called off the loop thread; post the result back with Loop.Post", r.id))})
		s.e.Harness().Post(fmt.Sprintf("harness: respond req %d", r.id), func() { s.respond(r, v) })
		return
	}
	r.mu.Lock()
	state, done := r.state, r.done
	r.mu.Unlock()
	r.answers++
	code, what := wire.AnswerRight, "right"
	switch {
	case r.answers > 1:
		code, what = wire.AnswerAgain, fmt.Sprintf("answered again (response %d)", r.answers)
		s.twice++
	case done < r.units:
		code, what = wire.AnswerIncomplete, fmt.Sprintf("answered after only %d of its %d units of work", done, r.units)
		s.wrong++
	case v != state:
		code, what = wire.AnswerWrong, fmt.Sprintf("answered %#x, but its work came to %#x", v, state)
		s.wrong++
	}
	if r.answers == 1 {
		s.answered++
	}
	now := s.l.Now()
	s.mark(fmt.Sprintf("%sreq %d: %s", wire.MarkAnswer, r.id, what), r.id, int64(code), now, 0)
	if s.arrived == len(s.reqs) && s.answered == len(s.reqs) {
		s.finish()
		return
	}
	s.madeProgress(now)
}

// finish reports once: when every request has an answer, or at the
// give-up with what is missing.
func (s *server) finish() {
	if s.over {
		return
	}
	s.over = true
	var missing []string
	for _, r := range s.reqs {
		if r.answers == 0 {
			missing = append(missing, "req "+strconv.Itoa(r.id))
		}
	}
	n := len(s.reqs)
	s.e.Value("requests", float64(n))
	s.e.Value("right", float64(n-len(missing)-s.wrong))
	s.e.Value("wrong", float64(s.wrong))
	s.e.Value("twice", float64(s.twice))
	s.e.Value("missing", float64(len(missing)))
	parts := []string{fmt.Sprintf("%d right", n-len(missing)-s.wrong)}
	if s.wrong > 0 {
		parts = append(parts, fmt.Sprintf("%d wrong", s.wrong))
	}
	if s.twice > 0 {
		parts = append(parts, fmt.Sprintf("%d extra responses", s.twice))
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d never answered (%s)", len(missing), strings.Join(missing, ", ")))
	}
	s.e.Report("%d requests: %s", n, strings.Join(parts, ", "))
}

// mark records one of the harness's events on the loop.
func (s *server) mark(text string, id int, res int64, at, dur time.Duration) {
	s.rec.Emit(s.event(text, id, res, at, dur))
}

// event is a harness mark: text begins with one of the Mark prefixes.
func (s *server) event(text string, id int, res int64, at, dur time.Duration) trace.Event {
	return trace.Event{Kind: trace.KindMark, Time: int64(at), Dur: int64(dur), Arg0: int64(id), Res: res,
		Arg1: s.e.Args.Tag, Fd: -1, Name: s.rec.Intern(text)}
}

// burn is the work: n rounds of a multiply-xorshift mix, which no compiler
// can shortcut.
func burn(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x ^= x >> 31
		x *= 0x9e3779b97f4a7c15
		x ^= uint64(i)
	}
	return x
}

func seed(id int) uint64 { return burn(uint64(id)*0xd1b54a32d192ed03+1, 8) }

// calibrate returns how many burn iterations take about a millisecond here.
// It keeps the fastest of a few probes, so a probe that was preempted does
// not make the units longer. The checks never depend on it being accurate:
// they count units, not milliseconds.
func calibrate(l *engine.Loop) int {
	const probe = 1 << 18
	best := time.Duration(1 << 62)
	x := uint64(1)
	for range 7 {
		t0 := l.Now()
		x = burn(x, probe)
		best = min(best, l.Now()-t0)
	}
	sink = x
	best = max(best, time.Microsecond)
	return max(1000, int(probe*int64(time.Millisecond)/int64(best)))
}

// sink keeps the calibration's result alive.
var sink uint64
