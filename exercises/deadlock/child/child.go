// Package child is the deadlock exercise's harness inside the sandbox. It
// plays a directory service that answers lookups over a pipe, a little
// later, and sends the handler requests that need a lookup before they can
// be answered.
package child

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asynclab/asynclab/exercises/deadlock/wire"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
	"github.com/asynclab/asynclab/exercises/kit"
)

// Handler is the signature the student implements. The harness calls it
// once per request, on the loop.
type Handler = func(l *engine.Loop, user string, lookup func(user string) *engine.Future[string], respond func(greeting string))

// Directory is what the directory service knows: each user's full name.
var Directory = map[string]string{
	"ada":     "Ada Lovelace",
	"grace":   "Grace Hopper",
	"linus":   "Linus Torvalds",
	"ken":     "Ken Thompson",
	"barbara": "Barbara Liskov",
	"edsger":  "Edsger Dijkstra",
}

// Greeting is the right answer to a request for user.
func Greeting(user string) string { return "hello, " + Directory[user] }

// maxValues bounds how often max-in-flight is reported, so that a handler
// starting lookups without end cannot flood the harness's reports.
const maxValues = 64

// Main runs h against the scenario's requests. The parameters are users
// (comma-separated, in arrival order), per-wave (how many arrive together;
// default all), spacing (between waves) and delays (comma-separated, how
// long the directory takes for the 1st, 2nd, ... lookup, cycling).
func Main(h Handler) {
	kit.Main(func(e *kit.Env) {
		hs, err := newHarness(e, h)
		if err != nil {
			e.Report("harness error: %v", err)
			return
		}
		hs.start()
	})
}

type harness struct {
	e       *kit.Env
	l       *engine.Loop
	h       Handler
	users   []string
	perWave int
	spacing time.Duration
	delays  []time.Duration
	waves   int // waves in all

	svc            *service
	rfd            int
	current        int // waves delivered so far, counting the one being delivered
	seq            int // lookups started
	waiting        map[int]*engine.Future[string]
	inFlight, peak int

	answered, correct, twice int
	firstWrong               string
	offLoop                  atomic.Int64
}

func newHarness(e *kit.Env, h Handler) (*harness, error) {
	a := e.Args
	users := strings.Split(a.Param("users"), ",")
	for _, u := range users {
		if _, ok := Directory[u]; !ok {
			return nil, fmt.Errorf("unknown user %q in the scenario", u)
		}
	}
	var delays []time.Duration
	for _, s := range strings.Split(a.Param("delays"), ",") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("delays: %w", err)
		}
		delays = append(delays, d)
	}
	per := a.Int("per-wave", len(users))
	if per <= 0 {
		per = len(users)
	}
	return &harness{e: e, l: e.Loop, h: h, users: users, perWave: per, spacing: a.Duration("spacing", 0),
		delays: delays, waves: (len(users) + per - 1) / per, waiting: map[int]*engine.Future[string]{}}, nil
}

func (hs *harness) start() {
	var p [2]int
	flags := sys.O_CLOEXEC
	if hs.l.Backend() == engine.Epoll {
		// The epoll backend tries a read at once and waits for readiness on
		// EAGAIN; io_uring waits in the kernel either way.
		flags |= sys.O_NONBLOCK
	}
	if err := hs.l.Sys().Pipe2(p[:], flags); err != nil {
		hs.e.Report("harness error: pipe2: %v", err)
		return
	}
	hs.rfd = p[0]
	hs.svc = newService(p[1], hs.waves)
	go hs.svc.run()
	hs.read(make([]byte, 4096), nil)
	hs.l.Queue(hs.waveName(0), func() { hs.deliver(0) })
}

// waveName names the callback that delivers wave w, in which the
// handler runs: after the handler, so that the timeline and the findings
// name the student's code, not the harness.
func (hs *harness) waveName(w int) string {
	first, last := w*hs.perWave, min((w+1)*hs.perWave, len(hs.users))
	if last-first == 1 {
		return fmt.Sprintf("Greet (your handler): request %d (%s)", first+1, hs.users[first])
	}
	return fmt.Sprintf("Greet (your handler): requests %d-%d, together", first+1, last)
}

// deliver hands wave w to the handler, then arms the next wave. Arming it
// only now keeps the waves in causal order: whatever the handler queued
// while handling this wave runs before the next wave arrives.
func (hs *harness) deliver(w int) {
	hs.current = w + 1
	first, last := w*hs.perWave, min((w+1)*hs.perWave, len(hs.users))
	for i := first; i < last; i++ {
		hs.h(hs.l, hs.users[i], hs.lookup, hs.responder(i, hs.users[i]))
	}
	hs.svc.delivered(w + 1)
	if w+1 < hs.waves {
		hs.l.AfterFunc(hs.waveName(w+1), hs.spacing, func() { hs.deliver(w + 1) })
	}
}

// lookup asks the directory service for user's name. The answer comes back
// over the pipe and resolves the future on the loop. A lookup started
// while wave w is the latest is answered only after wave w+1 has arrived,
// so that a handler that serves requests concurrently always has two
// lookups in flight at once.
func (hs *harness) lookup(user string) *engine.Future[string] {
	hs.seq++
	seq := hs.seq
	f := engine.NewFuture[string](hs.l, fmt.Sprintf("lookup %s #%d", user, seq))
	gate := 0
	if hs.current < hs.waves {
		gate = hs.current + 1
	}
	q := query{seq: seq, user: user, delay: hs.delays[(seq-1)%len(hs.delays)], gate: gate}
	if !hs.svc.ask(q) {
		f.Resolve("", errors.New("the directory is overloaded"))
		return f
	}
	hs.waiting[seq] = f
	hs.inFlight++
	if hs.inFlight > hs.peak {
		hs.peak = hs.inFlight
		if hs.peak <= maxValues {
			hs.e.Value(wire.ValueMaxInFlight, float64(hs.peak))
		}
	}
	return f
}

// read keeps one read of the service's pipe in flight and resolves a
// lookup for each line that arrives: "seq ok name" or "seq err message".
func (hs *harness) read(buf, partial []byte) {
	hs.l.Read(hs.rfd, buf, -1).Then(func(n int, err error) {
		if err != nil || n == 0 {
			hs.l.Sys().Close(hs.rfd)
			return
		}
		partial = append(partial, buf[:n]...)
		for {
			i := bytes.IndexByte(partial, '\n')
			if i < 0 {
				break
			}
			hs.resolve(string(partial[:i]))
			partial = partial[i+1:]
		}
		hs.read(buf, partial)
	})
}

func (hs *harness) resolve(line string) {
	s, rest, _ := strings.Cut(line, " ")
	kind, val, _ := strings.Cut(rest, " ")
	seq, _ := strconv.Atoi(s)
	f := hs.waiting[seq]
	if f == nil {
		return
	}
	delete(hs.waiting, seq)
	hs.inFlight--
	if kind == "ok" {
		f.Resolve(val, nil)
	} else {
		f.Resolve("", errors.New(val))
	}
}

// responder returns request i's respond function.
func (hs *harness) responder(i int, user string) func(string) {
	done := false // touched only on the loop
	return func(greeting string) {
		if !hs.l.OnLoop() {
			hs.offLoop.Add(1)
			hs.e.Harness().Post("harness: answer posted back to the loop", func() {
				hs.e.Value(wire.ValueOffLoop, float64(hs.offLoop.Load()))
				hs.answer(i, user, greeting, &done)
			})
			return
		}
		hs.answer(i, user, greeting, &done)
	}
}

func (hs *harness) answer(i int, user, greeting string, done *bool) {
	if *done {
		hs.twice++
		hs.e.Value(wire.ValueTwice, float64(hs.twice))
		return
	}
	*done = true
	hs.answered++
	if want := Greeting(user); greeting == want {
		hs.correct++
	} else if hs.firstWrong == "" {
		hs.firstWrong = fmt.Sprintf("request %d (%s) got %q, want %q", i+1, user, greeting, want)
	}
	hs.e.Value(wire.ValueAnswered, float64(hs.answered))
	if hs.answered < len(hs.users) {
		return
	}
	if hs.firstWrong != "" {
		hs.e.Report("%s; first wrong: %s", wire.Summary(hs.correct, len(hs.users)), hs.firstWrong)
	} else {
		hs.e.Report("%s", wire.Summary(hs.correct, len(hs.users)))
	}
	hs.svc.stop()
}

// query is one lookup the service has been asked for.
type query struct {
	seq   int
	user  string
	delay time.Duration
	gate  int // answer only once this many waves have arrived; 0: no gate
	due   time.Time
}

// service is the directory: a goroutine that writes each answer to the
// pipe once its delay has passed. It never touches the loop.
type service struct {
	wfd   int
	asks  chan query
	waves chan int
	quit  chan struct{}
	once  sync.Once
}

func newService(wfd, waves int) *service {
	return &service{wfd: wfd, asks: make(chan query, 256), waves: make(chan int, waves+1), quit: make(chan struct{})}
}

// ask hands q to the service. It never blocks the loop: it reports false
// when the service is swamped.
func (s *service) ask(q query) bool {
	select {
	case s.asks <- q:
		return true
	default:
		return false
	}
}

func (s *service) delivered(w int) {
	select {
	case s.waves <- w:
	default:
	}
}

func (s *service) stop() { s.once.Do(func() { close(s.quit) }) }

func (s *service) run() {
	defer syscall.Close(s.wfd)
	var pending []query
	arrived := 0
	for {
		now := time.Now()
		var next time.Duration = -1
		keep := pending[:0]
		for _, q := range pending {
			wait := q.due.Sub(now)
			switch {
			case wait <= 0 && (q.gate == 0 || arrived >= q.gate):
				s.write(q)
				continue
			case wait > 0 && (next < 0 || wait < next):
				next = wait
			}
			keep = append(keep, q)
		}
		pending = keep
		var tick <-chan time.Time
		if next >= 0 {
			tick = time.After(next)
		}
		select {
		case q := <-s.asks:
			q.due = time.Now().Add(q.delay)
			pending = append(pending, q)
		case arrived = <-s.waves:
		case <-tick:
		case <-s.quit:
			return
		}
	}
}

func (s *service) write(q query) {
	line := fmt.Sprintf("%d ok %s\n", q.seq, Directory[q.user])
	if _, ok := Directory[q.user]; !ok {
		line = fmt.Sprintf("%d err no user %q\n", q.seq, q.user)
	}
	syscall.Write(s.wfd, []byte(line))
}
