package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leaseHolderEnv makes the test binary a process that leases one uid
// from the pool in the lock directory it names, prints it and holds it
// until it is killed.
const leaseHolderEnv = "ASYNCLAB_SANDBOX_TEST_LEASE_HOLDER"

// testIDRange is a pool of two uids with a lock directory of its own.
func testIDRange(dir string) IDRange {
	return IDRange{First: 1_599_000_000, Count: 2, GID: 1_599_000_000, LockDir: dir}
}

func leaseHolderMain() {
	p := &idPool{r: testIDRange(os.Getenv(leaseHolderEnv))}
	l, err := p.lease(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "lease holder:", err)
		os.Exit(1)
	}
	fmt.Println(l.uid)
	select {}
}

// A uid leased by one process is not leased by another until the holder
// lets it go, or dies (here by kill -9); within a process, no two leases
// share a uid, and a lease waits while the whole range is taken.
func TestIDPool(t *testing.T) {
	dir := t.TempDir()
	cmd := execSelf(t, leaseHolderEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	theirs, err2 := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || err2 != nil {
		t.Fatalf("the lease holder said %q, %v", line, err)
	}

	p := &idPool{r: testIDRange(dir)}
	lease := func(d time.Duration) (*idLease, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return p.lease(ctx)
	}
	mine, err := lease(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.release()
	if mine.uid == theirs || !p.r.Contains(mine.uid) || mine.gid != p.r.GID {
		t.Errorf("lease() = uid %d gid %d, want the range's other uid than %d and gid %d", mine.uid, mine.gid, theirs, p.r.GID)
	}
	if l, err := lease(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		if l != nil {
			l.release()
		}
		t.Fatalf("lease() with every uid taken = %+v, %v; want it to wait until the deadline", l, err)
	}

	cmd.Process.Signal(os.Kill)
	<-waited
	again, err := lease(30 * time.Second)
	if err != nil {
		t.Fatalf("lease() after the holder was killed: %v", err)
	}
	if again.uid != theirs {
		t.Errorf("lease() = %d, want %d, the killed holder's", again.uid, theirs)
	}
	again.release()
	mine.release()
	if n := p.held.Load(); n != 0 {
		t.Errorf("held = %d after every release, want 0", n)
	}
	// Returned, a uid is leased again.
	for range 3 {
		l, err := lease(30 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.release()
	}
}

func TestSetIDRangeRejects(t *testing.T) {
	good := DefaultIDRange()
	for name, r := range map[string]IDRange{
		"no uids":          {First: good.First, Count: 0, GID: good.GID, LockDir: good.LockDir},
		"uid 0":            {First: 0, Count: 8, GID: good.GID, LockDir: good.LockDir},
		"past 32 bits":     {First: 1<<32 - 4, Count: 8, GID: good.GID, LockDir: good.LockDir},
		"root group":       {First: good.First, Count: 8, GID: 0, LockDir: good.LockDir},
		"relative lockdir": {First: good.First, Count: 8, GID: good.GID, LockDir: "run/leases"},
	} {
		if err := SetIDRange(r); err == nil {
			t.Errorf("SetIDRange(%s: %+v) = nil, want an error", name, r)
		}
	}
	if got := BoxIDs(); os.Geteuid() == 0 && got != good {
		t.Errorf("BoxIDs() = %+v after rejected ranges, want %+v", got, good)
	}
}
