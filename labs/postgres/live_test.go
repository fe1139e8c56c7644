package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/internal/pgtest"
	"github.com/asynclab/asynclab/labs"
)

// TestLiveRelay appends two tries of a run's stream through one store and
// reads them, and is told of them, through another on the same database,
// as a worker and a web node are.
func TestLiveRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := pgtest.Database(t)
	worker, web := mustOpen(t, url), mustOpen(t, url)
	if err := worker.CreateRun(ctx, &labs.Run{ID: "r1", Exercise: "connect", Mode: labs.ModeRun, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	told := make(chan string, 16)
	listening := make(chan error, 1)
	lctx, stop := context.WithCancel(ctx)
	go func() { listening <- web.ListenLive(lctx, func(run string) { told <- run }) }()
	// LISTEN takes effect before the first wait: append until the
	// listener hears one, so that the test does not race its start.
	msg := func(i int) []byte { return fmt.Appendf(nil, `{"seq":%d}`, i) }
	lm := func(attempt, seq int, data []byte) labs.LiveMessage {
		return labs.LiveMessage{Attempt: attempt, Seq: seq, Data: data}
	}
	for heard := false; !heard; {
		if err := worker.AppendLive(ctx, "r1", 1, 1, [][]byte{msg(1)}); err != nil {
			t.Fatal(err)
		}
		select {
		case run := <-told:
			if run != "r1" {
				t.Fatalf("notified of %q, want r1", run)
			}
			heard = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := worker.AppendLive(ctx, "r1", 1, 2, [][]byte{msg(2), msg(3)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-told:
	case <-ctx.Done():
		t.Fatal("no notification of the second append")
	}
	// Message 1 again (a writer that retried) is kept as it was.
	if err := worker.AppendLive(ctx, "r1", 1, 1, [][]byte{[]byte("changed")}); err != nil {
		t.Fatal(err)
	}
	if err := worker.AppendLive(ctx, "r1", 2, 1, [][]byte{msg(1)}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		attempt, seq, max int
		want              []labs.LiveMessage
	}{
		{1, 0, 10, []labs.LiveMessage{lm(1, 1, msg(1)), lm(1, 2, msg(2)), lm(1, 3, msg(3)), lm(2, 1, msg(1))}},
		{0, 0, 10, []labs.LiveMessage{lm(2, 1, msg(1))}}, // the latest try
		{0, 1, 10, nil},
		{1, 1, 2, []labs.LiveMessage{lm(1, 2, msg(2)), lm(1, 3, msg(3))}},
		{1, 3, 10, []labs.LiveMessage{lm(2, 1, msg(1))}},
		{2, 1, 10, nil},
	} {
		got, err := web.LiveSince(ctx, "r1", c.attempt, c.seq, c.max)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("LiveSince(r1, %d, %d, %d) (-want +got):\n%s", c.attempt, c.seq, c.max, diff)
		}
	}

	if err := worker.AppendLive(ctx, "absent", 1, 1, [][]byte{msg(1)}); err == nil {
		t.Errorf("AppendLive of a run the store does not have = nil, want an error")
	}
	if err := worker.AppendLive(ctx, "r1", 0, 1, [][]byte{msg(1)}); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("AppendLive(attempt 0) = %v, want %v", err, labs.ErrInvalid)
	}

	// An hour-old message goes with the next try's first append.
	if _, err := worker.pool.Exec(ctx, "UPDATE run_live SET at = $1 WHERE attempt = 1", nanos(time.Now().Add(-2*liveKeep))); err != nil {
		t.Fatal(err)
	}
	if err := worker.AppendLive(ctx, "r1", 3, 1, [][]byte{msg(1)}); err != nil {
		t.Fatal(err)
	}
	got, err := web.LiveSince(ctx, "r1", 1, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []labs.LiveMessage{lm(2, 1, msg(1)), lm(3, 1, msg(1))}; !cmp.Equal(want, got) {
		t.Errorf("after the sweep LiveSince = %v, want %v", got, want)
	}
	if got, err := web.LiveSince(ctx, "absent", 0, 0, 10); err != nil || got != nil {
		t.Errorf("LiveSince of a run with no messages = %v, %v; want none", got, err)
	}

	stop()
	if err := <-listening; err != nil {
		t.Errorf("ListenLive after its context ended = %v, want nil", err)
	}
}
