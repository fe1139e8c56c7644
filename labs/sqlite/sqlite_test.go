package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/labstest"
)

// mustOpen opens the store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%s) = %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return s
}

func tempPath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "lab.db") }

func TestStore(t *testing.T) {
	labstest.RunStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, tempPath(t)) })
}

func TestAccountStore(t *testing.T) {
	labstest.AccountStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, tempPath(t)) })
}

func TestCourseStore(t *testing.T) {
	labstest.CourseStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, tempPath(t)) })
}

func TestAssignmentStore(t *testing.T) {
	labstest.AssignmentStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, tempPath(t)) })
}

// A new database and its WAL are readable by their owner only: they hold
// every student's code and every password hash.
func TestFileModes(t *testing.T) {
	path := tempPath(t)
	s := mustOpen(t, path)
	if err := s.SetSetting(context.Background(), "k", "v"); err != nil { // writes the WAL
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

// TestPragmas checks the settings on several connections of each pool at
// once, since the pools open connections as they need them.
func TestPragmas(t *testing.T) {
	s := mustOpen(t, tempPath(t))
	ctx := context.Background()
	pragmas := []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
	}
	pools := []struct {
		name      string
		db        *sql.DB
		conns     int
		queryOnly string
	}{
		{"write", s.write, 1, "0"},
		{"read", s.read, 4, "1"},
	}
	for _, p := range pools {
		var conns []*sql.Conn
		for range p.conns {
			c, err := p.db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s pool: Conn() = %v", p.name, err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		for i, c := range conns {
			want := append(pragmas, struct{ name, want string }{"query_only", p.queryOnly})
			for _, pr := range want {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+pr.name).Scan(&got); err != nil {
					t.Fatalf("%s pool, connection %d: PRAGMA %s: %v", p.name, i, pr.name, err)
				}
				if got != pr.want {
					t.Errorf("%s pool, connection %d: PRAGMA %s = %s, want %s", p.name, i, pr.name, got, pr.want)
				}
			}
		}
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations() = %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations() start at %v, want version 1", ms)
	}
	for _, m := range ms {
		if strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %s is empty", m.name)
		}
	}
}

// TestReopen closes a store with runs in every status and reopens it:
// everything is there, and no migration ran twice.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 25, 22, 51, 17, 987654321, time.UTC)
	for i, status := range []labs.RunStatus{labs.StatusQueued, labs.StatusRunning, labs.StatusDone, labs.StatusInterrupted} {
		r := &labs.Run{ID: string(status), Exercise: "connect", Mode: labs.ModeSubmit, Client: "c",
			Code: "code", Backends: []string{"epoll"}, Created: created.Add(time.Duration(i))}
		if err := s.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		switch status {
		case labs.StatusRunning:
			err = s.StartRun(ctx, r.ID, created.Add(time.Second))
		case labs.StatusDone:
			if err = s.StartRun(ctx, r.ID, created.Add(time.Second)); err == nil {
				err = s.FinishRun(ctx, r.ID, labs.Outcome{Verdict: "passed", Score: 3, Max: 3, Result: []byte(`{"ok":true}`), Finished: created.Add(2 * time.Second)},
					[]labs.Trace{{Track: "a-epoll", Data: []byte("trace")}})
			}
		case labs.StatusInterrupted:
			err = s.InterruptRun(ctx, r.ID, "stopped", created.Add(time.Second))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	before, beforeTraces, beforeMigrations := snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	for i := range 2 {
		s := mustOpen(t, path)
		if s.Path() != path {
			t.Errorf("Path() = %s, want %s", s.Path(), path)
		}
		after, afterTraces, afterMigrations := snapshot(t, s)
		if diff := cmp.Diff(before, after, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("reopen %d: runs (-before +after):\n%s", i+1, diff)
		}
		if diff := labstest.DiffTraces(beforeTraces, afterTraces); diff != "" {
			t.Errorf("reopen %d: traces (-before +after):\n%s", i+1, diff)
		}
		if diff := cmp.Diff(beforeMigrations, afterMigrations); diff != "" {
			t.Errorf("reopen %d: schema_migrations (-before +after):\n%s", i+1, diff)
		}
		s.Close()
	}
	if ms, _ := migrations(); len(beforeMigrations) != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", len(beforeMigrations), len(ms))
	}
}

// snapshot returns every run, every trace and the schema_migrations rows.
func snapshot(t *testing.T, s *Store) ([]*labs.Run, []labs.Trace, []string) {
	t.Helper()
	ctx := context.Background()
	var runs []*labs.Run
	var traces []labs.Trace
	for _, id := range []string{"queued", "running", "done", "interrupted"} {
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		tr, err := s.Traces(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, tr...)
	}
	rows, err := s.read.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var migrations []string
	for rows.Next() {
		var v, at int64
		var name string
		if err := rows.Scan(&v, &name, &at); err != nil {
			t.Fatal(err)
		}
		migrations = append(migrations, fmt.Sprint(v, name, at))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return runs, traces, migrations
}

func TestNewerSchemaRefused(t *testing.T) {
	path := tempPath(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	future := ms[len(ms)-1].version + 1
	if _, err := s.write.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)", future); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(context.Background(), path)
	if !errors.Is(err, ErrNewerSchema) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a database at version %d = %v, want %v", future, err, ErrNewerSchema)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(future)) {
		t.Errorf("Open error %q does not name version %d", err, future)
	}
}

// TestConcurrentOpen opens one new file from several stores at once, as
// two processes might: each migration is applied once, and none fails.
func TestConcurrentOpen(t *testing.T) {
	path := tempPath(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), path)
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open = %v", err)
		}
	}
	s := mustOpen(t, path)
	var n int
	if err := s.read.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

// TestOddPath opens a path whose characters mean something in a URI.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20e&f=g")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab?.db")
	s := mustOpen(t, path)
	r := &labs.Run{ID: "r", Exercise: "connect", Mode: labs.ModeRun, Created: time.Now()}
	if err := s.CreateRun(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only the database's directory", filepath.Dir(dir), len(entries))
	}
}

// TestForeignKeys checks that foreign keys are enforced and that deleting
// a run deletes its traces.
func TestForeignKeys(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, tempPath(t))
	now := time.Now()
	r := &labs.Run{ID: "r", Exercise: "connect", Mode: labs.ModeRun, Created: now}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, "r", now); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, "r", labs.Outcome{Verdict: "passed", Finished: now}, []labs.Trace{{Track: "a-epoll", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, "INSERT INTO traces (run_id, track, data) VALUES ('absent', 'a-epoll', x'00')"); err == nil {
		t.Errorf("inserting a trace of an absent run = nil, want a foreign key error")
	}
	if _, err := s.write.ExecContext(ctx, "DELETE FROM runs WHERE id = 'r'"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM traces").Scan(&n); err != nil || n != 0 {
		t.Errorf("traces left after deleting their run = %d, %v; want 0", n, err)
	}
}

// crashEnv, when set, makes TestCrash the child that writes runs into the
// database it names until it is killed.
const crashEnv = "LABS_SQLITE_CRASH_DB"

// TestCrash kills processes that are writing runs with SIGKILL, three in
// turn on one file, each recovering what the last left: every run a child
// reported committed is there intact, any other run is whole or has no
// traces, and the file passes integrity_check.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	const rounds = 3
	path := tempPath(t)
	var committed []int
	for round := range rounds {
		committed = append(committed, crashOnce(t, path, 20+round*15)...)
	}
	t.Logf("%d children committed %d runs before they were killed", rounds, len(committed))

	ctx := context.Background()
	s := mustOpen(t, path)
	var check string
	if err := s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v; want ok", check, err)
	}
	for _, i := range committed {
		want, wantTraces := crashRun(i)
		want.Status = labs.StatusDone
		got, err := s.Run(ctx, want.ID)
		if err != nil {
			t.Errorf("Run(%s), reported committed: %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Run(%s) (-want +got):\n%s", want.ID, diff)
		}
		traces, err := s.Traces(ctx, want.ID)
		if diff := labstest.DiffTraces(wantTraces, traces); err != nil || diff != "" {
			t.Errorf("Traces(%s) = %v (-want +got):\n%s", want.ID, err, diff)
		}
	}
	// A run a kill cut short, if any, is queued or running with no traces,
	// or done with all of them.
	all, err := s.ClientRuns(ctx, "crash", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(committed) || len(all) > len(committed)+rounds {
		t.Errorf("the database holds %d runs, want %d to %d", len(all), len(committed), len(committed)+rounds)
	}
	for _, r := range all {
		traces, err := s.Traces(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (r.Status == labs.StatusDone) != (len(traces) == 2) {
			t.Errorf("run %s is %s with %d traces", r.ID, r.Status, len(traces))
		}
	}
}

// crashOnce starts a child writing runs into the database at path, kills it
// with SIGKILL once it has reported n of them committed, and returns the
// indexes of every run it reported.
func crashOnce(t *testing.T, path string, n int) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	var committed []int
	// readCommitted reads one complete line the child wrote.
	readCommitted := func() error {
		line, err := out.ReadString('\n')
		if err != nil {
			return err // a line cut short by the kill is not a report
		}
		var i int
		if _, err := fmt.Sscanf(line, "committed crash-%d\n", &i); err == nil {
			committed = append(committed, i)
		}
		return nil
	}
	for len(committed) < n {
		if err := readCommitted(); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child stopped after %d runs: %v\n%s", len(committed), err, stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for readCommitted() == nil {
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, not by SIGKILL\n%s", err, stderr.String())
	}
	return committed
}

// crashRun returns the i-th run the crash child writes, done, and its
// traces.
func crashRun(i int) (*labs.Run, []labs.Trace) {
	id := fmt.Sprintf("crash-%06d", i)
	created := time.Date(2026, 11, 25, 0, 0, 0, i, time.UTC).Add(time.Duration(i) * time.Millisecond)
	r := &labs.Run{
		ID: id, Exercise: "connect", Mode: labs.ModeSubmit, Client: "crash",
		Code: fmt.Sprintf("package handler // %d\n", i), Backends: []string{"epoll", "uring"}, Scenarios: []string{"late"},
		Verdict: "passed", Score: i % 11, Max: 10, Result: fmt.Appendf(nil, `{"run":%d}`, i),
		Created: created, Started: created.Add(time.Microsecond), Finished: created.Add(time.Second),
	}
	traces := []labs.Trace{
		{Track: "late-epoll", Data: bytes.Repeat([]byte(id+"e"), 2000)},
		{Track: "late-uring", Data: bytes.Repeat([]byte(id+"u"), 2000)},
	}
	return r, traces
}

// crashChild writes runs into the database at path, after those a killed
// child left, reporting each on stdout once it is committed, until it is
// killed. It exits by itself after a minute, should the parent be gone.
func crashChild(path string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(ctx, path)
	if err != nil {
		fail(err)
	}
	next := 0
	last, err := s.ClientRuns(ctx, "crash", "", 1)
	if err != nil {
		fail(err)
	}
	if len(last) > 0 {
		if _, err := fmt.Sscanf(last[0].ID, "crash-%d", &next); err != nil {
			fail(err)
		}
		next++
	}
	deadline := time.Now().Add(time.Minute)
	for i := next; time.Now().Before(deadline); i++ {
		r, traces := crashRun(i)
		out := labs.Outcome{Verdict: r.Verdict, Score: r.Score, Max: r.Max, Result: r.Result, Finished: r.Finished}
		if err := s.CreateRun(ctx, r); err != nil {
			fail(err)
		}
		if err := s.StartRun(ctx, r.ID, r.Started); err != nil {
			fail(err)
		}
		if err := s.FinishRun(ctx, r.ID, out, traces); err != nil {
			fail(err)
		}
		if _, err := io.WriteString(os.Stdout, "committed "+r.ID+"\n"); err != nil {
			fail(err)
		}
	}
	os.Exit(3)
}
