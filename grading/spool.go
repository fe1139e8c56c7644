package grading

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// spool carries one track's trace from the sandbox to the live decoder
// and, once the run is over, to whoever stores it. The bytes go to an
// unlinked temporary file as the box sends them, so the server holds only
// its readers' buffers, whatever the trace's size: the sandbox caps the
// file at the exercise's trace cap, and the file is gone when the spool is
// released (or, if it never is, when the garbage collector closes it).
//
// One goroutine writes; any number read. It is safe for concurrent use.
type spool struct {
	f *os.File

	mu     sync.Mutex
	grown  *sync.Cond // signalled when size grows or the writer is done
	size   int64
	done   bool
	failed error // the first failed write
}

// newSpool returns an empty spool with its file in dir ("" for the
// system's temporary directory).
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "asynclab-trace-*")
	if err != nil {
		return nil, fmt.Errorf("spool the trace: %w", err)
	}
	// Unlinked at once: nothing is left behind by a crash, and the space
	// is the kernel's to free when the file is closed.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool the trace: %w", err)
	}
	s := &spool{f: f}
	s.grown = sync.NewCond(&s.mu)
	return s, nil
}

// Write appends b to the file. It never waits for a reader.
func (s *spool) Write(b []byte) (int, error) {
	s.mu.Lock()
	off := s.size
	s.mu.Unlock()
	n, err := s.f.WriteAt(b, off)
	s.mu.Lock()
	s.size += int64(n)
	if err != nil && s.failed == nil {
		s.failed = fmt.Errorf("spool the trace: %w", err)
	}
	s.mu.Unlock()
	s.grown.Broadcast()
	return n, err
}

// closeWrite says that nothing more will be written: followers read to
// the end and then see io.EOF.
func (s *spool) closeWrite() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.grown.Broadcast()
}

// len returns the bytes written so far.
func (s *spool) len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// follow returns a reader of the spool from its start that, once it has
// caught up with the writer, waits for more until closeWrite.
func (s *spool) follow() io.Reader { return &follower{s: s} }

// release closes the file, and so frees its space. Readers fail after it.
func (s *spool) release() error { return s.f.Close() }

type follower struct {
	s   *spool
	off int64
}

func (r *follower) Read(b []byte) (int, error) {
	s := r.s
	s.mu.Lock()
	for r.off == s.size && !s.done {
		s.grown.Wait()
	}
	avail := s.size - r.off
	s.mu.Unlock()
	if avail == 0 {
		return 0, io.EOF
	}
	n, err := s.f.ReadAt(b[:min(int64(len(b)), avail)], r.off)
	r.off += int64(n)
	if err == io.EOF {
		err = nil // the file has what size says; a short read is read again
	}
	return n, err
}
