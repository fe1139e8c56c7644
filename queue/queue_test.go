package queue

import (
	"context"
	"database/sql"
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

// open makes a queue on a fresh SQLite file in dir, stopped and closed
// when the test ends.
func open(t *testing.T, path string, cfg Config) *Queue[*sql.Tx] {
	t.Helper()
	if cfg.GiveUp == nil {
		cfg.GiveUp = func(context.Context, Job, string) error { return nil }
	}
	cfg.PollInterval = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	q, db, err := OpenSQLite(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
		db.Close()
	})
	return q
}

func enqueue(t *testing.T, q *Queue[*sql.Tx], lane Lane, student string, runs ...string) {
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
func TestFairOrder(t *testing.T) {
	r := newRecorder()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: r.work, Workers: map[Lane]int{Submission: 1}})
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
func TestOneInFlightPerStudent(t *testing.T) {
	r := newRecorder()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: r.work, Workers: map[Lane]int{Submission: 4}})
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

// TestPracticeNotBehindSubmissions: a practice run is graded while every
// submission worker is busy and ten submissions wait.
func TestPracticeNotBehindSubmissions(t *testing.T) {
	r := newRecorder()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: r.work,
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
func TestPosition(t *testing.T) {
	r := newRecorder()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: r.work, Workers: map[Lane]int{Submission: 1}})
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
func TestEnqueueTwice(t *testing.T) {
	r := newRecorder()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: r.work, Workers: map[Lane]int{Practice: 2}})
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
func TestEnqueueRefuses(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{})
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
func TestGiveUp(t *testing.T) {
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
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Config{Work: work, GiveUp: giveUp, MaxAttempts: 2,
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
// its job running; the next server on the same file reclaims it and
// grades it, once, as its second attempt. A run whose every try kills the
// grader ends given up, with a reason that says so.
func TestReclaimAfterKill(t *testing.T) {
	if os.Getenv("QUEUE_TEST_CHILD") != "" {
		return // the child's work is in TestMain
	}
	path := filepath.Join(t.TempDir(), "q.db")
	{
		q := open(t, path, Config{})
		enqueue(t, q, Submission, "a", "r1", "r2")
	}
	// Each child grades until it is killed in the middle of r1.
	for try := 1; try <= 2; try++ {
		killChild(t, path)
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
	q := open(t, path, Config{Work: work, GiveUp: giveUp, MaxAttempts: 2, Workers: map[Lane]int{Submission: 1}})
	n, err := q.Reclaim(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Reclaim() = %d, %v; want 1 job (r1, running when the last child was killed)", n, err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("r2 not graded a minute after the restart")
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

// killChild starts a server process on path that takes r1 and is killed
// with SIGKILL while it grades it.
func killChild(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestReclaimAfterKill$")
	cmd.Env = append(os.Environ(), "QUEUE_TEST_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if got := string(buf[:n]); !strings.HasPrefix(got, "grading r1") {
		t.Fatalf("child said %q; want it to start grading r1", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
}

// TestMain runs the child of TestReclaimAfterKill: a server that reclaims
// what its killed predecessor left, starts grading, says which run, and
// hangs until it is killed.
func TestMain(m *testing.M) {
	path := os.Getenv("QUEUE_TEST_CHILD")
	if path == "" {
		os.Exit(m.Run())
	}
	work := func(ctx context.Context, j Job) error {
		fmt.Printf("grading %s attempt %d\n", j.Run, j.Attempt)
		select {} // the parent kills us here
	}
	q, _, err := OpenSQLite(context.Background(), path, Config{Work: work, MaxAttempts: 2,
		GiveUp:       func(context.Context, Job, string) error { return nil },
		PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Workers: map[Lane]int{Submission: 1}})
	if err == nil {
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
