package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/asynclab/asynclab/internal/pgtest"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/labstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mustOpen opens the store at url and closes it when the test ends.
func mustOpen(tb testing.TB, url string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("Open = %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	labstest.RunStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, pgtest.Database(t)) })
}

func TestAccountStore(t *testing.T) {
	labstest.AccountStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, pgtest.Database(t)) })
}

func TestCourseStore(t *testing.T) {
	labstest.CourseStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, pgtest.Database(t)) })
}

func TestAssignmentStore(t *testing.T) {
	labstest.AssignmentStoreTests(t, func(t *testing.T) labs.Store { return mustOpen(t, pgtest.Database(t)) })
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
	url := pgtest.Database(t)
	s, err := Open(ctx, url)
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
		s := mustOpen(t, url)
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
	rows, err := s.pool.Query(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var migrations []string
	for rows.Next() {
		var v int32
		var at int64
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
	url := pgtest.Database(t)
	s := mustOpen(t, url)
	ms, _ := migrations()
	future := ms[len(ms)-1].version + 1
	if _, err := s.pool.Exec(context.Background(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future.sql', 0)", future); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(context.Background(), url)
	if !errors.Is(err, ErrNewerSchema) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("Open of a database at version %d = %v, want %v", future, err, ErrNewerSchema)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(future)) {
		t.Errorf("Open error %q does not name version %d", err, future)
	}
}

// TestConcurrentOpen opens one new database from several stores at once,
// as several processes might: each migration is applied once, and none
// fails.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), url)
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
	s := mustOpen(t, url)
	var n int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

// TestForeignKeys checks that a trace needs its run and that deleting a
// run deletes its traces.
func TestForeignKeys(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, pgtest.Database(t))
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
	if _, err := s.pool.Exec(ctx, `INSERT INTO traces (run_id, track, size) VALUES ('absent', 'a-epoll', 1)`); err == nil {
		t.Errorf("inserting a trace of an absent run = nil, want a foreign key error")
	}
	if _, err := s.pool.Exec(ctx, "DELETE FROM runs WHERE id = 'r'"); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"traces", "trace_chunks"} {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s left after deleting their run = %d, %v; want 0", table, n, err)
		}
	}
}

// TestChunkMigration stores traces as migration 1 did, one value each,
// then opens the store: migration 2 splits them into chunks, and they
// read back whole.
func TestChunkMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 50_000) // 200,000 bytes: four chunks, the last short
	exact := bytes.Repeat([]byte{7}, 2*chunkSize)
	want := []labs.Trace{{Track: "a-big", Data: big}, {Track: "b-empty", Data: []byte{}}, {Track: "c-exact", Data: exact}}
	setup := []string{
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
		ms[0].sql,
		fmt.Sprintf(`INSERT INTO schema_migrations VALUES (1, '%s', 0)`, ms[0].name),
		`INSERT INTO runs (id, exercise, mode, client, code, status, created) VALUES ('r', 'connect', 'run', 'c', '', 'done', 1)`,
	}
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tr := range want {
		if _, err := conn.Exec(ctx, "INSERT INTO traces (run_id, track, data) VALUES ('r', $1, $2)", tr.Track, tr.Data); err != nil {
			t.Fatal(err)
		}
	}

	s := mustOpen(t, url)
	got, err := s.Traces(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if diff := labstest.DiffTraces(want, got); diff != "" {
		t.Errorf("Traces(r) after migrating (-want +got):\n%s", diff)
	}
	var chunks int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM trace_chunks").Scan(&chunks); err != nil || chunks != 4+0+2 {
		t.Errorf("trace_chunks has %d rows, %v; want 6", chunks, err)
	}
}

// TestRefusedText: text PostgreSQL cannot hold (a NUL, invalid UTF-8)
// outside the code is refused as invalid, not as an internal error, and
// the code itself takes any bytes.
func TestRefusedText(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, pgtest.Database(t))
	tests := []struct {
		name string
		run  labs.Run
		want error
	}{
		{"nul in the client", labs.Run{ID: "a", Exercise: "connect", Client: "c\x00"}, labs.ErrInvalid},
		{"invalid UTF-8 in a backend", labs.Run{ID: "b", Exercise: "connect", Backends: []string{"\xff"}}, labs.ErrInvalid},
		{"any bytes in the code", labs.Run{ID: "c", Exercise: "connect", Code: "\x00\xff\xfe"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run
			r.Mode, r.Created = labs.ModeRun, time.Now()
			err := s.CreateRun(ctx, &r)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CreateRun(%q) = %v, want %v", r.ID, err, tt.want)
			}
			if err != nil {
				return
			}
			got, err := s.Run(ctx, r.ID)
			if err != nil || got.Code != r.Code {
				t.Errorf("Run(%s).Code = %q, %v; want %q", r.ID, got.Code, err, r.Code)
			}
		})
	}
}

// TestTrackOrderIgnoresLocale: traces come back in byte order, as from
// SQLite, even in a database whose default collation would sort them
// otherwise.
func TestTrackOrderIgnoresLocale(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, pgtest.Database(t))
	tracks := []string{"b-epoll", "B-epoll", "a_uring", "a-uring", "Z"}
	if err := s.CreateRun(ctx, &labs.Run{ID: "r", Exercise: "connect", Mode: labs.ModeRun, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, "r", time.Now()); err != nil {
		t.Fatal(err)
	}
	var traces []labs.Trace
	for _, tr := range tracks {
		traces = append(traces, labs.Trace{Track: tr, Data: []byte(tr)})
	}
	if err := s.FinishRun(ctx, "r", labs.Outcome{Verdict: "passed", Finished: time.Now()}, traces); err != nil {
		t.Fatal(err)
	}
	got, err := s.Traces(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, tr := range got {
		order = append(order, tr.Track)
	}
	want := []string{"B-epoll", "Z", "a-uring", "a_uring", "b-epoll"}
	if !cmp.Equal(order, want) {
		t.Errorf("Traces(r) tracks = %v, want %v (bytewise)", order, want)
	}
	// The test has teeth: a locale's collation, where the server has ICU,
	// sorts these tracks otherwise.
	var icu []string
	rows, err := s.pool.Query(ctx, `SELECT track FROM traces ORDER BY track COLLATE "und-x-icu"`)
	if err == nil {
		icu, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Logf("no ICU collation to compare with: %v", err)
	} else if cmp.Equal(icu, want) {
		t.Errorf("under ICU the tracks sort as %v too: the test proves nothing", icu)
	}
}

func TestPruner(t *testing.T) {
	labstest.RunPrunerTests(t, func(t *testing.T) labstest.PrunerStore { return mustOpen(t, pgtest.Database(t)) })
}
