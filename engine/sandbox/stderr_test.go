package sandbox

import (
	"bytes"
	"strings"
	"testing"
)

func TestCrashScanner(t *testing.T) {
	noise := strings.Repeat("handled GET / in 3ms\n", 100_000) // 2 MiB of a handler's own log
	tests := []struct {
		name, stderr, want string
	}{
		{"panic", "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/box/main.go:5 +0x25\nexit status 2\n", "panic: boom"},
		{"nil dereference", "panic: runtime error: invalid memory address or nil pointer dereference\n" +
			"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47e1b2]\n\ngoroutine 1 [running]:\nmain.main()\n",
			"panic: runtime error: invalid memory address or nil pointer dereference"},
		{"thread limit", "runtime: failed to create new OS thread (have 31 already; errno=11)\n" +
			"runtime: may need to increase max user processes (ulimit -u)\nfatal error: newosproc\n\n" +
			"runtime stack:\nruntime.throw({0x4b0e2a?, 0x0?})\n\ngoroutine 1 [sleep]:\n",
			"runtime: failed to create new OS thread (have 31 already; errno=11)"},
		{"deadlock", "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\n",
			"fatal error: all goroutines are asleep - deadlock!"},
		{"traceback system", "fatal error: concurrent map writes\n\ngoroutine 7 gp=0xc000007a40 m=3 mp=0xc000080008 [running]:\n",
			"fatal error: concurrent map writes"},
		{"multi-line panic value", "panic: first line\nsecond line\n\ngoroutine 1 [running]:\n", "panic: first line"},
		{"repanic", "panic: one [recovered]\n\tpanic: two\n\ngoroutine 1 [running]:\n", "panic: one [recovered]"},
		{"after a log", noise + "panic: boom after logging\n\ngoroutine 1 [running]:\n", "panic: boom after logging"},
		{"printed, not crashed", "runtime: just a log line\nhandler: all good\n", ""},
		{"an old runtime line, then a crash", "runtime: a GODEBUG note\nserving\n" + strings.Repeat("req\n", 20) +
			"panic: late\n\ngoroutine 1 [running]:\n", "panic: late"},
		{"an old runtime line, then a dump", "runtime: a note\n" + strings.Repeat("req\n", 20) + "goroutine 1 [running]:\n", ""},
		{"mid-line", "log: panic: not at the start\n\ngoroutine 1 [running]:\n", ""},
		{"a dump, no crash line", "goroutine 1 [running]:\nmain.main()\n", ""},
		{"cut before the dump", "panic: boom\n\ngorout", ""},
		{"CRLF", "panic: boom\r\n\r\ngoroutine 1 [running]:\r\n", "panic: boom"},
		{"long line", "panic: " + strings.Repeat("x", 10_000) + "\n\ngoroutine 1 [running]:\n",
			"panic: " + strings.Repeat("x", maxCrashLine-len("panic: "))},
		{"invalid UTF-8", "panic: \xff\xfe\n\ngoroutine 1 [running]:\n", "panic: \uFFFD"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, and a byte at a time: a pipe splits writes anywhere.
			for _, chunk := range []int{len(tc.stderr) + 1, 1} {
				var s crashScanner
				for b := []byte(tc.stderr); len(b) > 0; b = b[min(chunk, len(b)):] {
					s.write(b[:min(chunk, len(b))])
				}
				if s.crash != tc.want {
					t.Errorf("crash in %d-byte writes = %.80q, want %.80q", chunk, s.crash, tc.want)
				}
			}
		})
	}
}

func TestStderrLog(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i/251)
		}
		return b
	}
	tests := []struct {
		name       string
		n          int
		head, tail []byte // nil: seq's slice
	}{
		{"empty", 0, nil, nil},
		{"short", 100, seq(100), nil},
		{"exactly the head", stderrKeep, seq(stderrKeep), nil},
		{"a byte more", stderrKeep + 1, seq(stderrKeep), seq(stderrKeep + 1)[stderrKeep:]},
		{"head and tail meet", 2 * stderrKeep, seq(stderrKeep), seq(2 * stderrKeep)[stderrKeep:]},
		{"2 MiB", 2 << 20, seq(stderrKeep), seq(2 << 20)[2<<20-stderrKeep:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := seq(tc.n)
			for _, chunk := range []int{1, 1000, 64 << 10, tc.n + 1} {
				var l stderrLog
				for b := all; len(b) > 0; b = b[min(chunk, len(b)):] {
					l.write(b[:min(chunk, len(b))])
				}
				if l.total != int64(tc.n) {
					t.Errorf("%d-byte writes: total = %d, want %d", chunk, l.total, tc.n)
				}
				if !bytes.Equal(l.head, tc.head) || !bytes.Equal(l.tail, tc.tail) {
					t.Errorf("%d-byte writes: head, tail = %d, %d bytes; want %d, %d bytes of the stream's ends",
						chunk, len(l.head), len(l.tail), len(tc.head), len(tc.tail))
				}
			}
		})
	}
}
