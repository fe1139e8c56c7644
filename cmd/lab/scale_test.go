package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/internal/pgtest"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/postgres"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// One lab serve and two lab worker processes on PostgreSQL grade a burst
// of 50 mixed submissions from 50 students, while one worker is killed
// with SIGKILL mid-run and started again, as a supervisor would. Every
// submission ends once, with its right verdict; the killed worker's run
// is taken back and graded; and nothing of the killed worker is left:
// no sandbox cgroup (so no box process) and no build directory.
func TestWorkerKilledMidBurst(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	if testing.Short() {
		t.Skip("a burst of 50 gradings")
	}
	db := pgtest.Database(t)
	// A try taken for lost after 75 s rather than 6 min, so that the test
	// waits for the rescue; every process on the database says the same.
	timing := []string{"--job-timeout", "60s", "--rescue-after", "75s"}
	web := startServer(t, t.TempDir(), append([]string{"--db", db, "--submit-workers", "0"}, timing...)...)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startWorker(t, db, dirA, timing...)
	startWorker(t, db, dirB, timing...)
	web.waitLog(t, "grader ready")

	subs := submitMixed(t, web.base, 50)
	// A student watches each submission on the web node, which sees the
	// workers' runs only through the store's relay.
	watched := watchAll(web.base, subs)

	// Worker A has finished a run and taken the next: kill it mid-run,
	// and start it again on the same data directory.
	killed := a.killMidRun(t)
	startWorker(t, db, dirA, timing...)

	ctx := context.Background()
	store, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	waitVerdicts(t, store, subs)
	// Every watcher was shown the verdict recorded, the killed worker's
	// run's too, though its first try's stream ended mid-run.
	for i, w := range watched {
		got := <-w
		run, err := store.Run(ctx, subs[i].id)
		if err != nil {
			t.Fatal(err)
		}
		if got.err != nil || got.verdict != run.Verdict {
			t.Errorf("%s %s: the web node showed verdict %q (%v), want %q as recorded", subs[i].exercise, subs[i].what, got.verdict, got.err, run.Verdict)
		}
	}

	// Each run had one job, which completed; the killed worker's was
	// taken back and tried again.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var jobs, completed, retried int
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed'),
		count(*) FILTER (WHERE attempt > 1) FROM river_job`).Scan(&jobs, &completed, &retried)
	if err != nil {
		t.Fatal(err)
	}
	if jobs != len(subs) || completed != jobs {
		t.Errorf("river_job: %d jobs, %d completed; want %d, all completed", jobs, completed, len(subs))
	}
	if retried == 0 {
		t.Errorf("no job was tried twice: the kill did not land mid-run")
	}
	t.Logf("%d submissions graded; %d jobs tried more than once", len(subs), retried)

	// Nothing of the killed worker is left: its sandboxes' cgroups were
	// removed by its successor, and no build directory remains.
	leftBehind(t, killed, dirA, dirB)
}

// A lab serve on SQLite killed with SIGKILL in the middle of a burst of
// 50 mixed submissions, and started again: every submission ends once,
// with its right verdict, and nothing of the killed server is left.
func TestServerKilledMidBurst(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	if testing.Short() {
		t.Skip("a burst of 50 gradings")
	}
	data := t.TempDir()
	s1 := startServer(t, data, "--submit-workers", "2")
	s1.waitLog(t, "grader ready")
	subs := submitMixed(t, s1.base, 50)
	killed := s1.killMidRun(t)

	// The killed server's runs in a try are taken back at once.
	s2 := startServer(t, data, "--submit-workers", "2")
	s2.waitLog(t, "reclaimed runs a stopped server was grading")
	store, err := sqlite.Open(context.Background(), filepath.Join(data, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	waitVerdicts(t, store, subs)
	leftBehind(t, killed, data)
}

// killMidRun kills the process with SIGKILL while it grades: once it has
// finished a run, and a moment later, when it has taken the next. It
// returns the process's pid.
func (s *server) killMidRun(t *testing.T) int {
	t.Helper()
	s.waitLog(t, "run finished")
	time.Sleep(300 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	return s.cmd.Process.Pid
}

// shown is what a watcher of a run was shown in the end.
type shown struct {
	verdict string
	err     error
}

// watchAll follows each of subs on the lab at base, as a browser does,
// until its stream ends, and sends the verdict of the result it showed.
func watchAll(base string, subs []submission) []chan shown {
	out := make([]chan shown, len(subs))
	for i, s := range subs {
		out[i] = make(chan shown, 1)
		go func() {
			msgs, err := readRun(base, s.id, "end", 12*time.Minute)
			var res struct{ Result struct{ Verdict string } }
			for _, m := range msgs {
				if m.Type == "result" {
					res.Result.Verdict = ""
					if jerr := json.Unmarshal(m.Raw, &res); jerr != nil && err == nil {
						err = jerr
					}
				}
			}
			out[i] <- shown{res.Result.Verdict, err}
		}()
	}
	return out
}

// submission is a run a test submitted, and whether it should pass.
type submission struct {
	id, exercise, what string
	pass               bool
}

// submitMixed submits n runs, each from a new student: every exercise's
// reference, starter and known-wrong variants in turn.
func submitMixed(t *testing.T, base string, n int) []submission {
	t.Helper()
	var subs []submission
	for _, c := range mixedCodes(n) {
		subs = append(subs, submission{startRunOn(t, base, c.exercise, c.code, "submit"), c.exercise, c.what, c.pass})
	}
	return subs
}

// waitVerdicts waits until every run of subs has ended, and checks that
// each is done with its right verdict: a reference passes with full
// marks, and every other submission is judged wrong by the grader (not
// failed by an internal error).
func waitVerdicts(t *testing.T, store labs.Store, subs []submission) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Minute)
	for _, s := range subs {
		for {
			run, err := store.Run(ctx, s.id)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status.Finished() {
				switch {
				case run.Status != labs.StatusDone:
					t.Errorf("%s %s ended %s (%s), want done", s.exercise, s.what, run.Status, run.Reason)
				case s.pass && (run.Verdict != string(grading.Passed) || run.Score != run.Max):
					t.Errorf("%s %s = %s %d/%d, want passed with full marks", s.exercise, s.what, run.Verdict, run.Score, run.Max)
				case !s.pass && (run.Verdict == string(grading.Passed) || run.Verdict == string(grading.InternalError)):
					t.Errorf("%s %s = %s, want it judged wrong", s.exercise, s.what, run.Verdict)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s (run %s) is still %s after 10 minutes", s.exercise, s.what, s.id, run.Status)
			}
			time.Sleep(time.Second)
		}
	}
}

// leftBehind checks that nothing of the killed process is left once its
// successor has started and the runs are done: no sandbox cgroup (so no
// box process), and no build directory in the data directories.
func leftBehind(t *testing.T, killed int, dataDirs ...string) {
	t.Helper()
	if left := runCgroups(t, killed); len(left) > 0 {
		t.Errorf("cgroups of the killed process remain: %v", left)
	}
	for _, dir := range dataDirs {
		work, err := os.ReadDir(filepath.Join(dir, "build", "work"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(work) > 0 {
			t.Errorf("%d build directories remain in %s", len(work), dir)
		}
	}
}

// runCgroups lists the sandbox cgroups of the process pid, in every
// hierarchy (run-PID-START-SEQ, under an asynclab parent).
func runCgroups(t *testing.T, pid int) []string {
	t.Helper()
	prefix := "run-" + strconv.Itoa(pid) + "-"
	var found []string
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), prefix) {
			found = append(found, p)
			return fs.SkipDir
		}
		if strings.Count(p, "/") > 6 {
			return fs.SkipDir
		}
		return nil
	})
	return found
}

// lab bench grading measures a burst on each setup and prints a row for
// each, every verdict right.
func TestBenchGrading(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	saved := labProcess
	t.Cleanup(func() { labProcess = saved })
	labProcess = func(args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), serveChildEnv+"="+strings.Join(args, " "))
		return cmd, nil
	}
	out, err := runLab(t, "bench", "grading", "--submissions", "3")
	if err != nil {
		t.Fatalf("lab bench grading: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "sqlite, serve") {
			continue
		}
		rows++
		// wrong and lost come before the two ratios.
		f := strings.Fields(line)
		if wrong, lost := f[len(f)-4], f[len(f)-3]; wrong != "0" || lost != "0" {
			t.Errorf("%s: %s wrong verdicts, %s lost", strings.Join(f[:4], " "), wrong, lost)
		}
	}
	if rows != 2 {
		t.Errorf("%d rows of SQLite setups, want 2:\n%s", rows, out)
	}
}
