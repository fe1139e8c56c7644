package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Limits bounds one run. A zero field takes its value from [DefaultLimits].
type Limits struct {
	Wall     time.Duration // from the program's exec to its exit
	CPU      time.Duration // user+system time of the whole process tree
	Memory   int64         // bytes of the run's memory cgroup: heap, stacks, page cache, tmpfs pages, kernel memory
	Pids     int           // processes and threads alive at once
	Output   int64         // bytes of stdout, and again of stderr, kept in Result (stderr gets a short grace past it)
	FileSize int64         // largest file the program may write (RLIMIT_FSIZE)
	Tmpfs    int64         // size of the writable /tmp
	// Trace is the most bytes the program may write to fd 3. Past it the
	// run is stopped (VerdictOutputLimit, Result.TraceCut) and the rest is
	// discarded as it is read.
	Trace int64
}

// DefaultLimits returns the production limits of one run.
func DefaultLimits() Limits {
	return Limits{
		Wall:     10 * time.Second,
		CPU:      10 * time.Second,
		Memory:   256 << 20,
		Pids:     96,
		Output:   1 << 20,
		FileSize: 16 << 20,
		Tmpfs:    64 << 20,
		Trace:    64 << 20,
	}
}

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Wall <= 0 {
		l.Wall = d.Wall
	}
	if l.CPU <= 0 {
		l.CPU = d.CPU
	}
	if l.Memory <= 0 {
		l.Memory = d.Memory
	}
	if l.Pids <= 0 {
		l.Pids = d.Pids
	}
	if l.Output <= 0 {
		l.Output = d.Output
	}
	if l.FileSize <= 0 {
		l.FileSize = d.FileSize
	}
	if l.Tmpfs <= 0 {
		l.Tmpfs = d.Tmpfs
	}
	if l.Trace <= 0 {
		l.Trace = d.Trace
	}
	return l
}

// IDRange is the host ids a root server runs its boxes as. Each box runs
// as a uid of its own, leased for the run from First to First+Count-1 and
// returned once the box and all its processes are gone, so that what the
// kernel counts per host user (io_uring's locked memory, epoll watches)
// is the box's alone: no box can use up another's budget. Every box has the group GID, which owns no file unless the
// server gives it one: a directory the boxes may write is group-writable
// by GID, and kernel.io_uring_group may name it.
//
// The ids must be unused on the host, outside /etc/subuid ranges (the
// default is above shadow's SUB_UID_MAX). Leases are flocks on files in
// LockDir, so that every lab process on the host (a server, the tests)
// leases from one pool; a lease dies with its holder, even by kill -9.
type IDRange struct {
	First, Count int
	GID          int
	LockDir      string
}

// DefaultIDRange returns the ids of [IDRange] used unless the server
// sets others with SetIDRange: 1024 uids from 1600000000, gid 1600000000,
// leases in /run/asynclab/box-uids.
func DefaultIDRange() IDRange {
	return IDRange{First: 1_600_000_000, Count: 1024, GID: 1_600_000_000, LockDir: "/run/asynclab/box-uids"}
}

// Contains reports whether uid is one of r's uids.
func (r IDRange) Contains(uid int) bool { return uid >= r.First && uid < r.First+r.Count }

// Bind makes a host file or directory visible inside the box at Inside.
// It is read-only, nosuid and nodev unless Writable; a writable bind is
// also noexec. The box runs as an unprivileged host user of its own with
// the boxes' group ([BoxIDs]), so the bound directory and its files need
// "other" permissions, or the group's, to be read, and a writable one
// must be writable by the group (or by all).
// The path leading to Host needs no permissions: the server opens it.
//
// The box does not learn Host of a read-only directory: it sees the
// directory through an overlay of it alone, whose root in
// /proc/self/mountinfo is "/". A file or a writable directory is a plain
// bind, and mountinfo gives its root as its path in its host filesystem:
// bind those from paths that tell nothing (the lab's run boxes bind only
// the program's directory, read-only; its build boxes run no student
// code).
type Bind struct {
	Host, Inside string
	Writable     bool
}

// File is a file the sandbox writes into the box before the program runs.
// Files under /tmp land in the writable /tmp; the others in the read-only
// root.
type File struct {
	Inside string
	Data   []byte
	Mode   os.FileMode
}

// Spec describes one sandboxed run.
type Spec struct {
	Path  string   // program path inside the box, e.g. "/box/prog", usually bound read-only from the host
	Args  []string // the whole argv, argv[0] included, as in exec.Cmd; empty means {Path}
	Env   []string // the whole environment: nothing is inherited
	Dir   string   // working directory inside the box; default "/"
	Binds []Bind
	Files []File

	Limits Limits

	// Peers runs trusted code on the server's side of the box: in the box's
	// network namespace, outside its pid namespace, so that the program can
	// neither see nor signal it. Run calls it once the box's loopback is up;
	// the program execs only after Peers has called ns.Ready (or returned),
	// so a listener opened before Ready is there when the program starts.
	// ctx is cancelled when the program ends, and the listeners and
	// connections made through ns are closed then; Run waits for Peers to
	// return. Its error is Result.PeerErr.
	Peers func(ctx context.Context, ns *NetNS) error

	// Trace, if set, is written the program's trace bytes (fd 3) as they
	// arrive, the first Limits.Trace of them, from one goroutine. The
	// sandbox keeps none of them: what a run's trace costs the server is
	// what Trace does with it. A slow Trace holds up the program's trace
	// pipe (the engine's recorder then drops events and counts them); a
	// failed Write ends the run as the sandbox's failure. Nil discards the
	// trace.
	Trace io.Writer

	// Logger receives the sandbox's debug records (setup, Landlock ABI,
	// cleanup); nil discards them.
	Logger *slog.Logger
}

// Verdict says how a run ended.
type Verdict string

// The verdicts of a run.
const (
	VerdictOK            Verdict = "ok"             // exit status 0
	VerdictRuntimeError  Verdict = "runtime-error"  // non-zero exit, a fatal signal of its own, or a Go crash
	VerdictTimeLimit     Verdict = "time-limit"     // wall or CPU limit
	VerdictMemoryLimit   Verdict = "memory-limit"   // the memory cgroup killed it
	VerdictOutputLimit   Verdict = "output-limit"   // stdout, stderr or the trace overflowed, with no crash
	VerdictKilled        Verdict = "killed"         // killed by the sandbox otherwise (seccomp, SIGKILL)
	VerdictInternalError Verdict = "internal-error" // the sandbox failed; the program is not to blame
)

// Result is the outcome of a run.
//
// PeakMemory is the most memory the run's cgroup held at once (memory.peak
// on cgroup v2, memory.max_usage_in_bytes on v1): what Limits.Memory
// limits, and so what a student compares with it. It may pass the limit
// by a few pages in a run that the limit ended: the kernel charges an
// allocation that must not fail (__GFP_NOFAIL, __GFP_HIGH, reclaim's
// own) even over the limit, and the high-water mark records it.
type Result struct {
	Verdict  Verdict
	Reason   string // one line for the student; never a host path
	ExitCode int    // -1 when killed by a signal
	Signal   string // "SIGKILL" and so on, or ""

	CPU, Wall   time.Duration
	PeakMemory  int64  // bytes, the cgroup's high-water mark; see below
	Stdout      []byte // the first Limits.Output bytes
	Stderr      []byte // the first Limits.Output bytes
	OutputBytes int64  // stdout+stderr bytes the program wrote, counted until it ended
	// TraceBytes is how many bytes the program wrote to fd 3, counted
	// until it ended, past Limits.Trace too; TraceCut reports whether that
	// was more than Limits.Trace, so that Spec.Trace got only the first
	// Limits.Trace of them and the run was stopped.
	TraceBytes int64
	TraceCut   bool
	// StderrHead is the first 4 KiB of stderr, always kept, even past
	// the output cap (and when Limits.Output is smaller).
	StderrHead []byte
	// StderrTail is the last 4 KiB of stderr that StderrHead does not
	// hold: empty when all of stderr fits in StderrHead, shorter than
	// 4 KiB when stderr was shorter than 8 KiB. Past the cap it holds the
	// program's last words, a crash's dump or the end of its log.
	// StderrHead and StderrTail together are all of stderr when
	// StderrBytes is their combined length, and are apart otherwise.
	StderrTail []byte
	// StderrBytes is how many bytes the program wrote to stderr in all,
	// past the output cap too, counted until it ended.
	StderrBytes int64
	// Crash is the first line of a Go runtime crash found in stderr
	// ("panic: ...", "fatal error: ...", "runtime: ..." followed by the
	// runtime's goroutine dump), wherever in stderr it came, or "". When
	// the runtime prints several such lines, the first says why:
	// "runtime: failed to create new OS thread (have 31 already;
	// errno=11)" before "fatal error: newosproc". A program that crashed
	// has the verdict VerdictRuntimeError and Crash in its Reason, even
	// when its dump overflowed stderr.
	Crash string

	Landlock int   // the Landlock ABI the box was restricted with; 0 when the kernel has none
	PeerErr  error // what Spec.Peers returned
}

// Check is one item of the host capability report.
type Check struct {
	Name     string
	OK       bool
	Required bool   // the server refuses to grade without it
	Detail   string // what was found and what it means
	Fix      string // how to fix it; "" when OK
}

// The names of the doctor's checks.
const (
	CheckUserNS    = "user namespaces"
	CheckMountNS   = "mount namespace"
	CheckPidNS     = "pid namespace"
	CheckNetNS     = "network namespace"
	CheckTimeNS    = "time namespace"
	CheckCgroups   = "cgroups"
	CheckSeccomp   = "seccomp"
	CheckLandlock  = "landlock"
	CheckIOUring   = "io_uring"
	CheckIOUringOn = "kernel.io_uring_disabled"
	CheckGo        = "go toolchain"
	CheckSwap      = "swap"
	CheckVsock     = "vsock"
)

// ErrNotRegular is returned by [ReadFile] for anything but a plain file.
var ErrNotRegular = errors.New("sandbox: not a regular file")

// Missing returns nil when every required check in checks passed, and
// otherwise an error that names the ones that failed.
func Missing(checks []Check) error {
	var bad []string
	for _, c := range checks {
		if c.Required && !c.OK {
			bad = append(bad, c.Name+": "+c.Detail)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("sandbox: host not ready: %s", strings.Join(bad, "; "))
	}
	return nil
}
