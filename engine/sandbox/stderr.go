package sandbox

import (
	"bytes"
	"strings"
)

// stderrKeep is how much of the head of stderr, and again of its tail, a
// [Result] keeps whatever Limits.Output is.
const stderrKeep = 4 << 10

// maxCrashLine bounds the crash line kept: a panic's value can be long.
const maxCrashLine = 512

// crashGap is how many other lines may come between a crash's first
// lines and its goroutine dump: "[signal SIGSEGV ...]", the rest of a
// multi-line panic value, "\tpanic: ... [recovered]".
const crashGap = 8

// stderrLog sees every byte the program writes to stderr, past the output
// cap too. It keeps the head and the tail and finds a Go runtime crash.
// It is not safe for concurrent use: the stderr reader owns it until the
// run ends.
type stderrLog struct {
	head, tail []byte
	total      int64
	crash      crashScanner
}

func (l *stderrLog) write(p []byte) {
	l.total += int64(len(p))
	l.crash.write(p)
	if room := stderrKeep - len(l.head); room > 0 {
		n := min(room, len(p))
		l.head = append(l.head, p[:n]...)
		p = p[n:]
	}
	switch {
	case len(p) == 0:
	case len(p) >= stderrKeep:
		l.tail = append(l.tail[:0], p[len(p)-stderrKeep:]...)
	default:
		if over := len(l.tail) + len(p) - stderrKeep; over > 0 {
			l.tail = append(l.tail[:0], l.tail[over:]...)
		}
		l.tail = append(l.tail, p...)
	}
}

// crashScanner finds the first line of a Go runtime crash in a stream.
// A crash starts with a line "panic: ...", "fatal error: ..." or
// "runtime: ..." and goes on with a goroutine dump ("goroutine 1
// [running]:", or "runtime stack:" for a crash on the system stack);
// the dump is what tells a crash from a program that merely prints such
// a line. Consecutive crash lines, blank lines between them included,
// make one block, whose first line names the crash: the runtime prints
// "runtime: failed to create new OS thread ..." before "fatal error:
// newosproc", and the first says why.
type crashScanner struct {
	line      []byte // the current line, up to maxCrashLine bytes
	candidate string // the first line of the latest crash block
	inBlock   bool   // the lines since candidate were all crash or blank lines
	gap       int    // other lines since the block ended
	crash     string // the confirmed crash line
}

func (s *crashScanner) write(p []byte) {
	for len(p) > 0 && s.crash == "" {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		if room := maxCrashLine - len(s.line); room > 0 {
			s.line = append(s.line, part[:min(room, len(part))]...)
		}
		if i < 0 {
			return
		}
		s.endLine(strings.ToValidUTF8(strings.TrimRight(string(s.line), "\r"), "\uFFFD"))
		s.line = s.line[:0]
		p = p[i+1:]
	}
}

func (s *crashScanner) endLine(line string) {
	switch {
	case crashStart(line):
		if !s.inBlock {
			s.candidate, s.inBlock = line, true
		}
		s.gap = 0
	case strings.TrimSpace(line) == "":
	case s.candidate != "" && dumpStart(line):
		s.crash = s.candidate
	default:
		s.inBlock = false
		if s.candidate != "" {
			if s.gap++; s.gap > crashGap {
				s.candidate = ""
			}
		}
	}
}

// crashStart reports whether line is one that a Go runtime crash starts
// with.
func crashStart(line string) bool {
	for _, p := range []string{"panic: ", "fatal error: ", "runtime: "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// dumpStart reports whether line starts a goroutine dump: "goroutine 1
// [running]:" (with GOTRACEBACK=system, "goroutine 1 gp=0x... m=0
// [running]:") or "runtime stack:".
func dumpStart(line string) bool {
	if line == "runtime stack:" {
		return true
	}
	rest, ok := strings.CutPrefix(line, "goroutine ")
	return ok && len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' && strings.HasSuffix(rest, "]:")
}
