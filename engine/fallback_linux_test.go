package engine_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
)

const fallbackChildEnv = "ASYNCLAB_TEST_FALLBACK_CHILD"

// TestFallbackWhenSeccompBlocksIoUring runs a loop in a child process whose
// seccomp filter refuses io_uring_setup, as Docker's default profile does.
// The loop must say why and run on epoll; without Fallback it must refuse.
func TestFallbackWhenSeccompBlocksIoUring(t *testing.T) {
	if os.Getenv(fallbackChildEnv) != "" {
		fallbackChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackWhenSeccompBlocksIoUring$", "-test.count=1")
	cmd.Env = append(os.Environ(), fallbackChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"fallback: backend=epoll",
		"io_uring_setup",
		"operation not permitted",
		"strict: refused:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("child output lacks %q:\n%s", want, got)
		}
	}
}

func fallbackChild() {
	if err := denyIoUringSetup(); err != nil {
		fmt.Println("seccomp:", err)
		os.Exit(1)
	}
	l := engine.New(engine.Config{Backend: engine.Uring, Fallback: true})
	err := l.Run(context.Background(), "main", func() { l.Nop().Then(func(int, error) { l.Stop() }) })
	fmt.Printf("fallback: backend=%s err=%v reason=%s\n", l.Backend(), err, l.FallbackReason())

	strict := engine.New(engine.Config{Backend: engine.Uring})
	err = strict.Run(context.Background(), "main", func() { strict.Stop() })
	fmt.Printf("strict: refused: %v\n", err)
}

// denyIoUringSetup installs a seccomp filter on every thread that makes
// io_uring_setup fail with EPERM and allows everything else.
func denyIoUringSetup() error {
	const (
		retAllow = 0x7fff0000
		retErrno = 0x00050000
	)
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_RET | unix.BPF_K, K: retErrno | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}
