package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/internal/pgtest"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/postgres"
	"github.com/asynclab/asynclab/labs/sqlite"
)

// serveChildEnv makes the test binary run `lab serve` with the arguments in
// it, for the tests that kill a real server process.
const serveChildEnv = "LAB_TEST_SERVE_ARGS"

func init() {
	args := os.Getenv(serveChildEnv)
	if args == "" || sandbox.IsInit() {
		return
	}
	m := NewMain(os.Stdout, os.Stderr)
	// As main does: SIGTERM asks the server to stop.
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if err := m.ParseFlags(ctx, strings.Fields(args)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// server is a `lab serve` child process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs chan string // its stderr, line by line
	// setup receives the first-start link the server printed, if it did.
	setup chan string
}

func startServer(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"=serve --addr 127.0.0.1:0 --data "+dataDir+" "+strings.Join(args, " "))
	return launchServer(t, cmd)
}

// launchServer starts cmd, a lab serve, and waits until it listens.
func launchServer(t *testing.T, cmd *exec.Cmd) *server {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := follow(t, cmd, stderr)
	line, err := readLine(stdout)
	m := regexp.MustCompile(`http://(\S+)/`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("the server did not say where it listens: %q, %v", line, err)
	}
	s.base = "http://" + m[1]
	s.setup = make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if link := strings.TrimSpace(sc.Text()); strings.Contains(link, "/link/") {
				s.setup <- link
			}
		}
	}()
	return s
}

// follow makes a server of the started process cmd, whose log lines on
// stderr go to its logs (a request's line, one a request, is left out:
// what the tests wait for is the rest), and kills it when the test ends.
func follow(t *testing.T, cmd *exec.Cmd, stderr io.Reader) *server {
	s := &server{cmd: cmd, logs: make(chan string, 1000)}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "msg=request ") {
				continue
			}
			select {
			case s.logs <- sc.Text():
			default:
			}
		}
		close(s.logs)
	}()
	return s
}

// waitLog waits for a line of the server's log containing want.
func (s *server) waitLog(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(4 * time.Minute)
	for {
		select {
		case line, ok := <-s.logs:
			if !ok {
				t.Fatalf("the server exited before saying %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("the server never said %q", want)
		}
	}
}

// A server killed with SIGKILL mid-grading loses nothing: the accepted
// submission is in the store, and the next server grades it.
func TestServerKilledMidGrading(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	data := t.TempDir()
	s1 := startServer(t, data)
	s1.waitLog(t, "grader ready")

	id, ref := submitReference(t, s1.base)
	waitTrack(t, s1.base, id)
	if err := s1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s1.cmd.Wait()

	store, err := sqlite.Open(context.Background(), filepath.Join(data, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.Run(context.Background(), id)
	store.Close()
	if err != nil || run.Status.Finished() || run.Code != string(ref) {
		t.Fatalf("after the kill the run is %+v, %v; want it stored, unfinished, with its code", run, err)
	}

	// The next server resumes it, and it is graded exactly as it would
	// have been.
	s2 := startServer(t, data)
	s2.waitLog(t, "resumed 1 unfinished run")
	if _, err := readRun(s2.base, id, "end", 2*time.Minute); err != nil {
		t.Fatalf("the resumed run did not finish: %v", err)
	}
	store, err = sqlite.Open(context.Background(), filepath.Join(data, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run, err = store.Run(context.Background(), id)
	if err != nil || run.Status != labs.StatusDone || run.Verdict != "passed" || run.Score != run.Max {
		t.Fatalf("the resumed run = %s %s %d/%d, %v; want done, passed, full marks", run.Status, run.Verdict, run.Score, run.Max, err)
	}
	traces, err := store.Traces(context.Background(), id)
	if err != nil || len(traces) == 0 {
		t.Errorf("the resumed run has %d traces, %v", len(traces), err)
	}
}

// A second server on a data directory in use exits non-zero, naming the
// process that holds it, and leaves the first one serving.
func TestSecondServerRefused(t *testing.T) {
	data := t.TempDir()
	first := startServer(t, data)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"=serve --addr 127.0.0.1:0 --data "+data)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the second server: %v, want a non-zero exit\n%s", err, out)
	}
	want := fmt.Sprintf("is in use: %s is locked by process %d", filepath.Join(data, "lock"), first.cmd.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Errorf("the second server said %q, want it to contain %q", out, want)
	}
	resp, err := http.Get(first.base + "/healthz")
	if err != nil {
		t.Fatalf("the first server stopped answering: %v", err)
	}
	resp.Body.Close()
}

// A server told to stop (SIGTERM) takes no more runs, lets the one being
// graded finish, records it, and exits cleanly.
func TestServerDrainsOnSIGTERM(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	data := t.TempDir()
	s := startServer(t, data)
	s.waitLog(t, "grader ready")
	id, _ := submitReference(t, s.base)
	waitTrack(t, s.base, id)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "stopping: letting the runs being graded finish")
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server stopped with %v, want a clean exit", err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(data, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run, err := store.Run(context.Background(), id)
	if err != nil || run.Status != labs.StatusDone || run.Verdict != "passed" {
		t.Errorf("after the stop the run is %+v, %v; want it done and passed", run, err)
	}
}

// lab serve --db postgres://... keeps its runs and its queue in
// PostgreSQL: a submission is graded and recorded there.
func TestServeOnPostgres(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	db := pgtest.Database(t)
	s := startServer(t, t.TempDir(), "--db", db)
	s.waitLog(t, "grader ready")
	id, _ := submitReference(t, s.base)
	if _, err := readRun(s.base, id, "end", 2*time.Minute); err != nil {
		t.Fatalf("the run did not finish: %v", err)
	}
	store, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run, err := store.Run(context.Background(), id)
	if err != nil || run.Status != labs.StatusDone || run.Verdict != "passed" {
		t.Errorf("the run in PostgreSQL is %+v, %v; want done and passed", run, err)
	}
	traces, err := store.Traces(context.Background(), id)
	if err != nil || len(traces) == 0 {
		t.Errorf("the run's traces in PostgreSQL: %d, %v; want one per track", len(traces), err)
	}
}

// A lab serve that leaves submissions to a lab worker on the same
// PostgreSQL database: the worker grades and records the submission, and
// the student watching on the web node sees it live, through the store's
// relay: its first events arrive before the worker has recorded the
// result, and the result is the one recorded.
func TestWorkerGradesForServer(t *testing.T) {
	if err := sandbox.Ready(); err != nil {
		t.Skipf("the sandbox cannot run on this host: %v", err)
	}
	db := pgtest.Database(t)
	web := startServer(t, t.TempDir(), "--db", db, "--submit-workers", "0")
	startWorker(t, db, t.TempDir())
	web.waitLog(t, "grader ready")

	id, _ := submitReference(t, web.base)
	msgs, err := readRun(web.base, id, "end", 2*time.Minute)
	if err != nil {
		t.Fatalf("the run did not end on the web node: %v", err)
	}
	var (
		types       []string
		result      []byte
		firstEvents time.Time
	)
	for _, m := range msgs {
		types = append(types, m.Type)
		if m.Type == "result" {
			result = m.Raw
		}
		if m.Type == "events" && firstEvents.IsZero() {
			firstEvents = m.At
		}
	}
	if !bytes.Contains(result, []byte(`"verdict":"passed"`)) || firstEvents.IsZero() {
		t.Fatalf("the web node showed %v, result %.300s; want the run's events and a passed result", types, result)
	}
	store, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run, err := store.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first events on the web node %v before the worker recorded the result", run.Finished.Sub(firstEvents))
	if !firstEvents.Before(run.Finished) {
		t.Errorf("the first events reached the web node at %v, after the worker recorded the result at %v: not live",
			firstEvents.Format(time.StampMicro), run.Finished.Format(time.StampMicro))
	}
	if !bytes.Contains(result, []byte(`"id":"`+id+`"`)) {
		t.Errorf("the result shown, %.200s, is not the run's", result)
	}
}

// startWorker starts a `lab worker` child process on the database db with
// the data directory dir, and waits until it is ready.
func startWorker(t *testing.T, db, dir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"=worker --db "+db+" --data "+dir+" "+strings.Join(args, " "))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := follow(t, cmd, stderr)
	w.waitLog(t, "worker ready")
	return w
}

// readLine reads one line from r a byte at a time, so that nothing after
// it is buffered away from the next reader.
func readLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return string(line), err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			return string(line), nil
		}
	}
}
