//go:build unix

package flock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Lock is an exclusive lock held on a file. Close releases it.
type Lock struct {
	f *os.File
}

// Acquire takes the exclusive lock on the file at path, creating the file
// when it is missing, without waiting, and writes this process's id into
// it for people to read. When another process holds the lock it returns a
// *[HeldError] naming that process.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, &HeldError{Path: path, PID: holder(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Path returns the path of the locked file.
func (l *Lock) Path() string { return l.f.Name() }

// Close releases the lock. The file stays, so that the next holder locks
// the same inode.
func (l *Lock) Close() error { return l.f.Close() }

// TryLock takes the exclusive lock of the open file or directory f without
// waiting. It returns an error wrapping [ErrLocked] when another open file
// description holds it. The lock lasts as long as f is open.
func TryLock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return ErrLocked
		default:
			return os.NewSyscallError("flock", err)
		}
	}
}

// holder returns the id of the process holding the flock on path: from
// /proc/locks, which the kernel keeps, or else from what the holder wrote
// into the file; 0 when neither says.
func holder(path string) int {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0
	}
	if pid := procLocksHolder(uint64(st.Dev), st.Ino); pid > 0 {
		return pid
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return max(pid, 0)
}

// procLocksHolder finds the FLOCK on the inode dev:ino in /proc/locks,
// whose lines read "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF", the
// device as hexadecimal major:minor.
func procLocksHolder(dev, ino uint64) int {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// A blocked waiter's line has "->" after the number.
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
