package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// TestChains checks links, drain and link timeouts through the op API. On
// io_uring they are SQE flags; on epoll the loop emulates them.
func TestChains(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		for _, order := range []struct {
			name  string
			first engine.Order
			next  engine.Order
		}{
			{"link", engine.Link | engine.Async, 0},
			{"drain", engine.Async, engine.Drain},
		} {
			t.Run(order.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "f")
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				fd := int(f.Fd())
				for trial := 0; trial < 50; trial++ {
					l := newLoop(t, kind)
					var completions []string
					run(t, l, func() {
						a := l.Write(fd, []byte("AAAA"), 0).Order(order.first)
						b := l.Write(fd, []byte("BBBB"), 0).Order(order.next)
						a.Then(func(int, error) { completions = append(completions, "A") })
						b.Then(func(int, error) {
							completions = append(completions, "B")
							l.Stop()
						})
					})
					data, _ := os.ReadFile(path)
					if string(data) != "BBBB" || len(completions) != 2 || completions[0] != "A" {
						t.Fatalf("trial %d: completions %v, file %q; want A then B and BBBB", trial, completions, data)
					}
				}
			})
		}
		t.Run("failing-head-cancels-chain", func(t *testing.T) {
			l := newLoop(t, kind)
			var headErr, nextErr error
			run(t, l, func() {
				l.Read(-1, make([]byte, 4), 0).Order(engine.Link).Then(func(_ int, err error) { headErr = err })
				l.Nop().Then(func(_ int, err error) {
					nextErr = err
					l.Stop()
				})
			})
			if !errors.Is(headErr, sys.EBADF) || !errors.Is(nextErr, sys.ECANCELED) {
				t.Errorf("head, linked = %v, %v; want EBADF, ECANCELED", headErr, nextErr)
			}
		})
		t.Run("link-timeout-on-stalled-read", func(t *testing.T) {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			l := newLoop(t, kind)
			var readErr, timeoutErr error
			done := 0
			run(t, l, func() {
				finish := func() {
					if done++; done == 2 {
						l.Stop()
					}
				}
				l.Read(p[0], make([]byte, 4), -1).Order(engine.Link).Then(func(_ int, err error) { readErr = err; finish() })
				l.LinkTimeout(10 * time.Millisecond).Then(func(_ int, err error) { timeoutErr = err; finish() })
			})
			if !errors.Is(readErr, sys.ECANCELED) || !errors.Is(timeoutErr, sys.ETIME) {
				t.Errorf("read, link timeout = %v, %v; want ECANCELED, ETIME", readErr, timeoutErr)
			}
		})
	})
}
