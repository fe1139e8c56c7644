package engine

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// threadStat reads the kernel scheduler's view of one thread from its /proc
// files. They are opened on that thread, through /proc/thread-self, and
// kept open, so that each reading is one pread; the descriptors keep naming
// that thread whichever thread reads them, so the watchdog can read the
// loop's. Its methods are safe for concurrent use.
type threadStat struct {
	sched int // /proc/thread-self/schedstat
	stat  int // /proc/thread-self/stat, or -1 when not opened
}

// schedTimes is one reading of a thread's schedstat.
type schedTimes struct {
	CPU    int64 // ns the thread has run on a CPU
	Delay  int64 // ns it has been runnable but not running; includes time throttled by a CPU quota
	Slices int64 // times it was switched in
}

// openThreadStat opens the calling thread's schedstat, and its stat too when
// withState is set. The caller must be locked to its thread.
func openThreadStat(withState bool) (*threadStat, error) {
	s := &threadStat{stat: -1}
	fd, err := unix.Open("/proc/thread-self/schedstat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/thread-self/schedstat", Err: err}
	}
	s.sched = fd
	if withState {
		fd, err := unix.Open("/proc/thread-self/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(s.sched)
			return nil, &os.PathError{Op: "open", Path: "/proc/thread-self/stat", Err: err}
		}
		s.stat = fd
	}
	// A kernel without CONFIG_SCHED_INFO reads "0 0 0". A thread that is
	// running this code has run, but a new one may not have been charged
	// for it yet (the kernel brings the CPU time up to date at a tick or a
	// switch), so yield once, which switches, before taking zero to mean
	// nothing is measured.
	t, err := s.times()
	if err == nil && t.CPU == 0 {
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		t, err = s.times()
	}
	if err != nil || t.CPU == 0 && t.Slices == 0 {
		s.close()
		if err == nil {
			err = errors.New("/proc/thread-self/schedstat reads zero: the kernel keeps no scheduler statistics (CONFIG_SCHED_INFO)")
		}
		return nil, err
	}
	return s, nil
}

func (s *threadStat) close() {
	unix.Close(s.sched)
	if s.stat >= 0 {
		unix.Close(s.stat)
	}
}

// times reads the thread's schedstat: "cpu-ns run-delay-ns slices\n". Any
// thread may read it. The kernel updates the CPU time there only at each
// tick and each switch, so for a running thread it may lag the truth by a
// tick; for a sleeping one it is exact. The run delay of a thread reading
// its own schedstat is exact, because the thread is running.
func (s *threadStat) times() (schedTimes, error) {
	var b [96]byte
	n, err := preadFull(s.sched, b[:])
	if err != nil {
		return schedTimes{}, os.NewSyscallError("pread schedstat", err)
	}
	var v [3]int64
	i := 0
	for _, c := range b[:n] {
		switch {
		case c >= '0' && c <= '9':
			v[i] = v[i]*10 + int64(c-'0')
		case c == ' ' && i < 2:
			i++
		case c == '\n':
		default:
			return schedTimes{}, errors.New("engine: malformed /proc/thread-self/schedstat")
		}
	}
	if i != 2 {
		return schedTimes{}, errors.New("engine: malformed /proc/thread-self/schedstat")
	}
	return schedTimes{CPU: v[0], Delay: v[1], Slices: v[2]}, nil
}

// ownTimes is times for the thread itself, which alone may call it: the
// CPU time comes from the calling thread's CPU clock, which the kernel
// brings up to date when it is read, instead of schedstat's, which may lag
// by a tick, more than a short handler runs.
func (s *threadStat) ownTimes() (schedTimes, error) {
	t, err := s.times()
	if err != nil {
		return t, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return schedTimes{}, os.NewSyscallError("clock_gettime", err)
	}
	t.CPU = ts.Nano()
	return t, nil
}

// state reads the thread's state letter from its stat: 'R' running or
// runnable, 'S' sleeping, 'D' in uninterruptible sleep, and so on.
func (s *threadStat) state() (byte, error) {
	// "tid (comm) S ...": comm is at most 15 bytes but may hold ')' or
	// spaces, so the state follows the last ')'. The fields after the state
	// are numbers, so 128 bytes cannot end inside a later ')'.
	var b [128]byte
	n, err := preadFull(s.stat, b[:])
	if err != nil {
		return 0, os.NewSyscallError("pread stat", err)
	}
	for i := n - 1; i >= 0; i-- {
		if b[i] == ')' {
			if i+2 < n {
				return b[i+2], nil
			}
			break
		}
	}
	return 0, errors.New("engine: malformed /proc/thread-self/stat")
}

// preadFull reads from offset 0, retrying EINTR, which is control flow.
func preadFull(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Pread(fd, b, 0)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}
