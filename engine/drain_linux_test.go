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

// TestDrainTrials runs drained writes turn after turn on one loop: on
// io_uring the loop's wake READ must not hold the ring in drain mode (Linux
// 6.16 and later keep a ring there until a submission finds it idle), and
// on epoll a drained op must never be overtaken by a later one.
func TestDrainTrials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		for _, tc := range []struct {
			name          string
			first, second engine.Order
		}{
			{"drain-second", engine.Async, engine.Drain},
			{"drain-both", engine.Async | engine.Drain, engine.Drain},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f, err := os.Create(filepath.Join(t.TempDir(), "f"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				fd := int(f.Fd())
				const trials = 100
				l := newLoop(t, kind)
				var got [trials]string
				i := 0
				var next func()
				next = func() {
					if i == trials {
						l.Stop()
						return
					}
					n, off := i, int64(8*i)
					i++
					var order string
					l.Write(fd, []byte("AAAAAAAA"), off).Order(tc.first).Then(func(int, error) { order += "A" })
					l.Write(fd, []byte("BBBBBBBB"), off).Order(tc.second).Then(func(int, error) {
						order += "B"
						got[n] = order
						l.Queue("next", next)
					})
				}
				run(t, l, next)
				data, _ := os.ReadFile(f.Name())
				for n := range trials {
					if slot := string(data[8*n : 8*n+8]); got[n] != "AB" || slot != "BBBBBBBB" {
						t.Fatalf("trial %d: completions %q, file %q; want AB and BBBBBBBB", n, got[n], slot)
					}
				}
			})
		}
	})
}

// TestPostAfterDrain: while a drained op waits for a read that has not
// completed, a post from another goroutine still reaches the loop.
func TestPostAfterDrain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		l := newLoop(t, kind)
		var order []string
		run(t, l, func() {
			l.Read(p[0], make([]byte, 1), -1).Then(func(int, error) { order = append(order, "read") })
			l.Nop().Order(engine.Drain).Then(func(int, error) {
				order = append(order, "nop")
				l.Stop()
			})
			go func() {
				time.Sleep(5 * time.Millisecond)
				l.Post("posted", func() {
					order = append(order, "post")
					unix.Write(p[1], []byte{1})
				})
			}()
		})
		if len(order) != 3 || order[0] != "post" || order[1] != "read" || order[2] != "nop" {
			t.Errorf("order = %v, want [post read nop]", order)
		}
	})
}

// TestDrainAfterFailedLink: an op linked to a head that fails is cancelled,
// even when it also waits behind a drain.
func TestDrainAfterFailedLink(t *testing.T) {
	forEachBackend(t, func(t *testing.T, kind engine.Kind) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		l := newLoop(t, kind)
		var order []string
		var nopErr error
		run(t, l, func() {
			l.Read(p[0], make([]byte, 1), -1).Then(func(int, error) { order = append(order, "read") })
			l.Read(-1, make([]byte, 1), 0).Order(engine.Link).Then(func(int, error) { order = append(order, "bad read") })
			l.Nop().Order(engine.Drain).Then(func(_ int, err error) {
				order = append(order, "nop")
				nopErr = err
				l.Stop()
			})
			l.AfterFunc("writer", 5*time.Millisecond, func() { unix.Write(p[1], []byte{1}) })
		})
		if !errors.Is(nopErr, sys.ECANCELED) || len(order) != 3 || order[2] != "nop" {
			t.Errorf("order %v, nop = %v; want the NOP last, ECANCELED", order, nopErr)
		}
	})
}
