package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/asynclab/asynclab/internal/pgtest"
)

// recorder is a Work function that keeps what it was given.
type recorder struct {
	mu       sync.Mutex
	order    []string
	attempts map[string][]int
	running  map[string]int // per student, now
	maxRun   map[string]int // per student, the most at once
	release  map[string]chan struct{}
	started  chan string
	delay    time.Duration // each run takes this long
}

func newRecorder() *recorder {
	return &recorder{attempts: map[string][]int{}, running: map[string]int{}, maxRun: map[string]int{},
		release: map[string]chan struct{}{}, started: make(chan string, 1000)}
}

// hold makes Work on run wait until the returned func is called.
func (r *recorder) hold(run string) func() {
	ch := make(chan struct{})
	r.mu.Lock()
	r.release[run] = ch
	r.mu.Unlock()
	return sync.OnceFunc(func() { close(ch) })
}

func (r *recorder) work(ctx context.Context, j Job) error {
	r.mu.Lock()
	r.order = append(r.order, j.Run)
	r.attempts[j.Run] = append(r.attempts[j.Run], j.Attempt)
	r.running[j.Student]++
	r.maxRun[j.Student] = max(r.maxRun[j.Student], r.running[j.Student])
	ch := r.release[j.Run]
	r.mu.Unlock()
	r.started <- j.Run
	time.Sleep(r.delay)
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	r.mu.Lock()
	r.running[j.Student]--
	r.mu.Unlock()
	return nil
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

// queuer is what the tests use of a queue, whatever its database.
type queuer interface {
	Enqueue(ctx context.Context, job Job) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Position(ctx context.Context, lane Lane, run string) (Place, error)
	Reclaim(ctx context.Context) (int, error)
}

// backend is a database the queue runs on.
type backend struct {
	name string
	// db makes a new, empty database for t and says where it is.
	db func(t testing.TB) string
	// open makes a queue on the database at db, and a func that closes
	// what open opened, to call after stopping the queue.
	open func(ctx context.Context, db string, cfg Config) (queuer, func(), error)
	// owned says one process owns the queue, so a restarted one reclaims
	// what a killed one was grading (Reclaim); otherwise River's rescuer
	// does, after RescueAfter.
	owned bool
}

var backends = []backend{
	{
		name: "sqlite",
		db:   func(t testing.TB) string { return filepath.Join(t.TempDir(), "q.db") },
		open: func(ctx context.Context, path string, cfg Config) (queuer, func(), error) {
			q, db, err := OpenSQLite(ctx, path, cfg)
			if err != nil {
				return nil, nil, err
			}
			return q, func() { db.Close() }, nil
		},
		owned: true,
	},
	{
		name: "postgres",
		db:   pgtest.Database,
		open: func(ctx context.Context, url string, cfg Config) (queuer, func(), error) {
			pc, err := pgxpool.ParseConfig(url)
			if err != nil {
				return nil, nil, err
			}
			pc.MaxConns = 10
			pool, err := pgxpool.NewWithConfig(ctx, pc)
			if err != nil {
				return nil, nil, err
			}
			q, err := OpenPostgres(ctx, pool, cfg)
			if err != nil {
				pool.Close()
				return nil, nil, err
			}
			return q, pool.Close, nil
		},
	},
}

// eachBackend runs test once per backend, as a subtest named after it.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// testConfig fills in what every test's queue shares.
func testConfig(cfg Config) Config {
	if cfg.GiveUp == nil {
		cfg.GiveUp = func(context.Context, Job, string) error { return nil }
	}
	cfg.PollInterval = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// open makes a queue on b's database at db, stopped and closed when the
// test ends.
func open(t *testing.T, b backend, db string, cfg Config) queuer {
	t.Helper()
	q, closeDB, err := b.open(context.Background(), db, testConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
		closeDB()
	})
	return q
}

func enqueue(t *testing.T, q queuer, lane Lane, student string, runs ...string) {
	t.Helper()
	for _, run := range runs {
		if err := q.Enqueue(context.Background(), Job{Run: run, Student: student, Lane: lane}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor waits until n runs have started, or fails after a minute.
func waitFor(t *testing.T, r *recorder, n int) []string {
	t.Helper()
	deadline := time.After(time.Minute)
	for range n {
		select {
		case <-r.started:
		case <-deadline:
			t.Fatalf("only %v of %d runs started", r.snapshot(), n)
		}
	}
	return r.snapshot()
}

// TestFairOrder: with one worker, the student who submitted five at once
// does not hold the line; each student's next submission joins the back
// of it when their previous one is done.
func TestFairOrder(t *testing.T) { eachBackend(t, testFairOrder) }

func testFairOrder(t *testing.T, b backend) {
	r := newRecorder()
	q := open(t, b, b.db(t), Config{Work: r.work, Workers: map[Lane]int{Submission: 1}})
	enqueue(t, q, Submission, "a", "a1", "a2", "a3", "a4", "a5")
	enqueue(t, q, Submission, "b", "b1")
	enqueue(t, q, Submission, "c", "c1")
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, r, 7)
	want := []string{"a1", "b1", "c1", "a2", "a3", "a4", "a5"}
	if !slices.Equal(got, want) {
		t.Errorf("graded in the order %v; want %v", got, want)
	}
}

// TestOneInFlightPerStudent: with more workers than students, a student's
// submissions are still graded one at a time, each exactly once.
func TestOneInFlightPerStudent(t *testing.T) { eachBackend(t, testOneInFlightPerStudent) }

func testOneInFlightPerStudent(t *testing.T, b backend) {
	r := newRecorder()
	q := open(t, b, b.db(t), Config{Work: r.work, Workers: map[Lane]int{Submission: 4}})
	r.delay = 30 * time.Millisecond // so a second one of a student's would overlap
	var all []string
	for _, s := range []string{"a", "b"} {
		for i := range 5 {
			run := fmt.Sprintf("%s%d", s, i)
			all = append(all, run)
			enqueue(t, q, Submission, s, run)
		}
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, r, len(all))
	slices.Sort(got)
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Errorf("graded %v; want each of %v once", got, all)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, n := range r.maxRun {
		if n != 1 {
			t.Errorf("student %s had %d submissions graded at once; want 1", s, n)
		}
	}
}

// TestConcurrentEnqueue: several processes (here, queues with connections
// of their own on one database) enqueue the same students' submissions at
// once; still each student has exactly one in line and the rest waiting,
// and the workers grade each once, one at a time per student.
func TestConcurrentEnqueue(t *testing.T) { eachBackend(t, testConcurrentEnqueue) }

func testConcurrentEnqueue(t *testing.T, b backend) {
	const (
		procs    = 4
		students = 5
		each     = 8 // submissions per student and round
	)
	db := b.db(t)
	var qs []queuer
	for range procs {
		qs = append(qs, open(t, b, db, Config{}))
	}
	// enqueueAll enqueues each student's submissions of round from every
	// process at once: process p enqueues every procs-th one.
	enqueueAll := func(round int) map[string][]string {
		runs := map[string][]string{}
		for s := range students {
			student := fmt.Sprintf("s%d", s)
			for i := range each {
				runs[student] = append(runs[student], fmt.Sprintf("%s-%d-%d", student, round, i))
			}
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, procs)
		)
		for p, q := range qs {
			wg.Go(func() {
				<-start
				for i := p; i < each; i += procs {
					for student, rs := range runs {
						if err := q.Enqueue(context.Background(), Job{Run: rs[i], Student: student, Lane: Submission}); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Enqueue = %v", err)
		}
		return runs
	}

	// Round 1, before any worker runs: one in line per student.
	runs := enqueueAll(1)
	for student, rs := range runs {
		var inLine []string
		for _, run := range rs {
			place, err := qs[0].Position(context.Background(), Submission, run)
			if err != nil {
				t.Fatal(err)
			}
			if !place.Waiting {
				inLine = append(inLine, run)
			}
		}
		if len(inLine) != 1 {
			t.Errorf("student %s has %v in line after concurrent enqueues; want exactly one, the rest waiting", student, inLine)
		}
	}

	// Round 2, while workers finish the students' submissions and let the
	// next ones in: none is left waiting for good.
	r := newRecorder()
	r.delay = 20 * time.Millisecond // so a second one of a student's would overlap
	w := open(t, b, db, Config{Work: r.work, Workers: map[Lane]int{Submission: 4}})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, round := range []map[string][]string{runs, enqueueAll(2)} {
		for _, rs := range round {
			all = append(all, rs...)
		}
	}
	got := waitFor(t, r, len(all))
	slices.Sort(got)
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Errorf("graded %v; want each of %v once", got, all)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, n := range r.maxRun {
		if n != 1 {
			t.Errorf("student %s had %d submissions graded at once; want 1", s, n)
		}
	}
}

// TestPracticeNotBehindSubmissions: a practice run is graded while every
// submission worker is busy and ten submissions wait.
func TestPracticeNotBehindSubmissions(t *testing.T) { eachBackend(t, testPracticeNotBehindSubmissions) }

func testPracticeNotBehindSubmissions(t *testing.T, b backend) {
	r := newRecorder()
	q := open(t, b, b.db(t), Config{Work: r.work,
		Workers: map[Lane]int{Submission: 1, Practice: 1}})
	for i := range 10 {
		run := fmt.Sprintf("s%d", i)
		defer r.hold(run)()
		enqueue(t, q, Submission, fmt.Sprintf("student%d", i), run)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, r, 1); got[0] != "s0" {
		t.Fatalf("first graded %v; want s0", got)
	}
	enqueue(t, q, Practice, "student3", "p")
	got := waitFor(t, r, 1)
	if !slices.Equal(got, []string{"s0", "p"}) {
		t.Errorf("graded %v while s0 held the submission lane; want [s0 p]", got)
	}
	place, err := q.Position(context.Background(), Submission, "s4")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Place{Ahead: 3}); place != want {
		t.Errorf("Position(s4) = %+v; want %+v (s1, s2, s3 before it)", place, want)
	}
}

// TestPosition: where a run stands, in each of its states.
func TestPosition(t *testing.T) { eachBackend(t, testPosition) }

func testPosition(t *testing.T, b backend) {
	r := newRecorder()
	q := open(t, b, b.db(t), Config{Work: r.work, Workers: map[Lane]int{Submission: 1}})
	release := r.hold("a1")
	defer release()
	enqueue(t, q, Submission, "a", "a1", "a2")
	enqueue(t, q, Submission, "b", "b1")
	enqueue(t, q, Submission, "c", "c1")
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 1)
	tests := []struct {
		run  string
		want Place
	}{
		{"a1", Place{Running: true}},
		{"b1", Place{Ahead: 0}},
		{"c1", Place{Ahead: 1}},
		{"a2", Place{Waiting: true}},
		{"nobody", Place{Done: true}},
	}
	for _, tt := range tests {
		got, err := q.Position(context.Background(), Submission, tt.run)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Position(%s) = %+v; want %+v", tt.run, got, tt.want)
		}
	}
	release()
	waitFor(t, r, 3)
	got, err := q.Position(context.Background(), Submission, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done {
		t.Errorf("Position(a1) after it was graded = %+v; want Done", got)
	}
}

// TestEnqueueTwice: enqueueing a run again, as a caller unsure whether
// its first call got through does, grades it once.
func TestEnqueueTwice(t *testing.T) { eachBackend(t, testEnqueueTwice) }

func testEnqueueTwice(t *testing.T, b backend) {
	r := newRecorder()
	q := open(t, b, b.db(t), Config{Work: r.work, Workers: map[Lane]int{Practice: 2}})
	enqueue(t, q, Practice, "a", "p1", "p1", "p2")
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 2)
	enqueue(t, q, Practice, "a", "p1") // after it was graded, too
	time.Sleep(500 * time.Millisecond) // five polls: time for a wrong second grade to show
	if got := r.snapshot(); len(got) != 2 {
		t.Errorf("graded %v; want p1 and p2 once each", got)
	}
}

// TestEnqueueRefuses: a student id that cannot be a tag, or a lane that
// does not exist, is refused with a message that says what is wrong.
func TestEnqueueRefuses(t *testing.T) { eachBackend(t, testEnqueueRefuses) }

func testEnqueueRefuses(t *testing.T, b backend) {
	q := open(t, b, b.db(t), Config{})
	tests := []struct {
		job  Job
		want string
	}{
		{Job{Run: "r", Student: "", Lane: Practice}, "student id"},
		{Job{Run: "r", Student: "a b", Lane: Practice}, "student id"},
		{Job{Run: "r", Student: "a", Lane: "bulk"}, `no lane "bulk"`},
	}
	for _, tt := range tests {
		err := q.Enqueue(context.Background(), tt.job)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Enqueue(%+v) = %v; want an error about %s", tt.job, err, tt.want)
		}
	}
}

// TestGiveUp: a run whose every try fails is tried MaxAttempts times,
// then given up with the last error, and the student's next submission
// is graded.
func TestGiveUp(t *testing.T) { eachBackend(t, testGiveUp) }

func testGiveUp(t *testing.T, b backend) {
	var (
		mu     sync.Mutex
		tries  []int
		reason string
		gaveUp = make(chan struct{})
		next   = make(chan struct{})
	)
	work := func(ctx context.Context, j Job) error {
		if j.Run == "next" {
			close(next)
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		tries = append(tries, j.Attempt)
		return errors.New("the store is on fire")
	}
	giveUp := func(ctx context.Context, j Job, why string) error {
		mu.Lock()
		defer mu.Unlock()
		reason = why
		close(gaveUp)
		return nil
	}
	q := open(t, b, b.db(t), Config{Work: work, GiveUp: giveUp, MaxAttempts: 2,
		Workers: map[Lane]int{Submission: 1}})
	enqueue(t, q, Submission, "a", "bad", "next")
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan struct{}{gaveUp, next} {
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Fatalf("tries %v, not given up (or next not graded) after a minute", tries)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(tries, []int{1, 2}) {
		t.Errorf("tried at attempts %v; want [1 2]", tries)
	}
	if want := "grading failed 2 times; the last time: the store is on fire"; reason != want {
		t.Errorf("gave up saying %q; want %q", reason, want)
	}
}

// TestReclaimAfterKill: a server killed with SIGKILL while grading leaves
// its job running; the next server on the same database takes it back and
// grades it, once, as its second attempt. On SQLite, which one server
// owns, Reclaim takes it back at start; on PostgreSQL, where Reclaim
// refuses, River's rescuer does, once the job has run longer than
// RescueAfter. A run whose every try kills the grader ends given up, with
// a reason that says so.
func TestReclaimAfterKill(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		return // the child's work is in TestMain
	}
	eachBackend(t, testReclaimAfterKill)
}

func testReclaimAfterKill(t *testing.T, b backend) {
	db := b.db(t)
	{
		q := open(t, b, db, Config{})
		enqueue(t, q, Submission, "a", "r1", "r2")
	}
	// Each child grades until it is killed in the middle of r1.
	for try := 1; try <= 2; try++ {
		killChild(t, b, db)
	}
	var (
		mu     sync.Mutex
		tries  = map[string][]int{}
		reason string
		done   = make(chan struct{})
	)
	work := func(ctx context.Context, j Job) error {
		mu.Lock()
		defer mu.Unlock()
		tries[j.Run] = append(tries[j.Run], j.Attempt)
		if j.Run == "r2" {
			close(done)
		}
		return nil
	}
	giveUp := func(ctx context.Context, j Job, why string) error {
		mu.Lock()
		defer mu.Unlock()
		reason = j.Run + ": " + why
		return nil
	}
	q := open(t, b, db, killConfig(b, Config{Work: work, GiveUp: giveUp}))
	n, err := q.Reclaim(context.Background())
	if b.owned && (err != nil || n != 1) {
		t.Fatalf("Reclaim() = %d, %v; want 1 job (r1, running when the last child was killed)", n, err)
	}
	if !b.owned && err == nil {
		t.Fatalf("Reclaim() on a shared database = %d, nil; want a refusal (a running job may be a live worker's)", n)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("r2 not graded two minutes after the restart")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tries["r1"]) != 0 || !slices.Equal(tries["r2"], []int{1}) {
		t.Errorf("worked %v after the kills; want r1 given up (its two tries died) and r2 graded once", tries)
	}
	if want := "r1: the grader stopped 2 times while grading this run (its process died or hung)"; reason != want {
		t.Errorf("gave up saying %q; want %q", reason, want)
	}
}

// killConfig is the configuration of the kill test's servers. Where River's
// rescuer takes a dead server's job back, it does so two seconds after the
// job started rather than minutes.
func killConfig(b backend, cfg Config) Config {
	cfg.MaxAttempts = 2
	cfg.Workers = map[Lane]int{Submission: 1}
	if !b.owned {
		cfg.JobTimeout, cfg.RescueAfter = time.Second, 2*time.Second
	}
	return cfg
}

// The environment of the kill test's child: the database, and its backend.
const (
	childEnv        = "QUEUE_TEST_CHILD"
	childBackendEnv = "QUEUE_TEST_CHILD_BACKEND"
)

// killChild starts a server process on b's database at db that takes r1
// and is killed with SIGKILL while it grades it.
func killChild(t *testing.T, b backend, db string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestReclaimAfterKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+db, childBackendEnv+"="+b.name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// A child that never starts r1 is killed, so that the read below ends.
	watchdog := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer watchdog.Stop()
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if got := string(buf[:n]); !strings.HasPrefix(got, "grading r1") {
		t.Fatalf("child said %q; want it to start grading r1", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
}

// TestMain runs the tests, on a PostgreSQL cluster of their own unless
// LAB_TEST_POSTGRES names one; or, in a child of TestReclaimAfterKill, a
// server that takes back what its killed predecessor left (Reclaim, where
// it owns the queue), starts grading, says which run, and hangs until it
// is killed.
func TestMain(m *testing.M) {
	db := os.Getenv(childEnv)
	if db == "" {
		os.Exit(pgtest.Run(m))
	}
	i := slices.IndexFunc(backends, func(b backend) bool { return b.name == os.Getenv(childBackendEnv) })
	if i < 0 {
		fmt.Println("child: no backend", os.Getenv(childBackendEnv))
		os.Exit(1)
	}
	b := backends[i]
	work := func(ctx context.Context, j Job) error {
		fmt.Printf("grading %s attempt %d\n", j.Run, j.Attempt)
		select {} // the parent kills us here
	}
	q, _, err := b.open(context.Background(), db, killConfig(b, testConfig(Config{Work: work})))
	if err == nil && b.owned {
		_, err = q.Reclaim(context.Background())
	}
	if err == nil {
		err = q.Start(context.Background())
	}
	if err != nil {
		fmt.Println("child:", err)
		os.Exit(1)
	}
	select {}
}
