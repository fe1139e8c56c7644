package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

var (
	idsMu    sync.Mutex
	idRange  = DefaultIDRange()
	idsInUse bool // a lease was taken: the range is fixed from then on
	pool     *idPool
)

// SetIDRange sets the host ids a root server's boxes run as. It must be
// called before the first [Run] (or [Doctor]), and every lab process on
// the host must use the same range and LockDir, which is how they keep
// out of each other's leases.
func SetIDRange(r IDRange) error {
	if r.First <= 0 || r.Count <= 0 || r.GID <= 0 || r.First+r.Count > 1<<32-2 || !filepath.IsAbs(r.LockDir) {
		return fmt.Errorf("sandbox: invalid id range %+v", r)
	}
	idsMu.Lock()
	defer idsMu.Unlock()
	if idsInUse {
		return errors.New("sandbox: the id range is set before the first run")
	}
	idRange = r
	return nil
}

// BoxIDs returns the host ids this server's boxes run as. A root server
// leases each box a uid of its own from the range, and every box has the
// range's GID. An unprivileged server can map only itself: its boxes all
// run as its own uid and gid (a range of one, shared, not leased). A
// writable [Bind] must be writable by GID.
func BoxIDs() IDRange {
	if os.Geteuid() != 0 {
		return IDRange{First: os.Geteuid(), Count: 1, GID: os.Getegid()}
	}
	idsMu.Lock()
	defer idsMu.Unlock()
	return idRange
}

// leaseIDs leases the ids of one box: a uid of its own from the pool on a
// root server. release returns it once the box and every process of it
// are gone.
func leaseIDs(ctx context.Context) (*idLease, error) {
	if os.Geteuid() != 0 {
		return &idLease{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	idsMu.Lock()
	if pool == nil {
		pool = &idPool{r: idRange, next: rand.IntN(idRange.Count)}
		idsInUse = true
	}
	p := pool
	idsMu.Unlock()
	return p.lease(ctx)
}

// idPool leases host uids from a range, one per box, across every process
// of the host: a uid is leased by holding an exclusive flock on its file
// in LockDir. The kernel drops the lock when the holder closes it or
// dies, kill -9 included, so a crashed server's uids come back by
// themselves; its boxes died with it (Pdeathsig, PID 1).
type idPool struct {
	r    IDRange
	held atomic.Int64 // leases this process holds

	mu      sync.Mutex
	dirDone bool
	next    int // offset of the first uid to try: leases go round the range
}

// idLease is one box's ids.
type idLease struct {
	uid, gid int
	f        *os.File // holds the flock; nil when nothing is leased
	pool     *idPool
}

// release returns the uid to the pool.
func (l *idLease) release() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
		l.pool.held.Add(-1)
	}
}

// kept holds the leases of boxes that may have left a process behind,
// until this process exits: their uids are not leased again.
var (
	keptMu sync.Mutex
	kept   []*idLease
)

// keep holds the lease until this process exits.
func (l *idLease) keep() {
	keptMu.Lock()
	kept = append(kept, l)
	keptMu.Unlock()
}

// leaseWait is how often a lease is retried while every uid is taken.
const leaseWait = 20 * time.Millisecond

// lease takes the next free uid after the last one leased, so that a
// uid just returned is the last to be leased again; it waits while the
// whole range is taken.
func (p *idPool) lease(ctx context.Context) (*idLease, error) {
	if err := p.lockDir(); err != nil {
		return nil, err
	}
	for {
		l, err := p.tryLease()
		if l != nil || err != nil {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sandbox: all %d box uids are leased: %w", p.r.Count, ctx.Err())
		case <-time.After(leaseWait):
		}
	}
}

func (p *idPool) tryLease() (*idLease, error) {
	p.mu.Lock()
	start := p.next
	p.mu.Unlock()
	for i := range p.r.Count {
		off := (start + i) % p.r.Count
		uid := p.r.First + off
		fd, err := unix.Open(filepath.Join(p.r.LockDir, strconv.Itoa(uid)), unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("sandbox: lease a box uid: %w", os.NewSyscallError("open", err))
		}
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			unix.Close(fd)
			continue
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("sandbox: lease a box uid: %w", os.NewSyscallError("flock", err))
		}
		p.mu.Lock()
		p.next = (off + 1) % p.r.Count
		p.mu.Unlock()
		p.held.Add(1)
		return &idLease{uid: uid, gid: p.r.GID, f: os.NewFile(uintptr(fd), "uid lease"), pool: p}, nil
	}
	return nil, nil
}

// lockDir makes the lock directory, private to root: a box never sees it,
// and nobody else may plant or remove its locks.
func (p *idPool) lockDir() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirDone {
		return nil
	}
	if err := os.MkdirAll(p.r.LockDir, 0o700); err != nil {
		return fmt.Errorf("sandbox: uid leases: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(p.r.LockDir, &st); err != nil {
		return fmt.Errorf("sandbox: uid leases: %w", os.NewSyscallError("lstat", err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return fmt.Errorf("sandbox: uid leases: %s must be a directory of uid %d that no one else can write", p.r.LockDir, os.Geteuid())
	}
	p.dirDone = true
	return nil
}
