package connect

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises"
)

// fullPeer listens with a backlog of 0 and fills the accept queue with
// connections it never accepts, so the kernel drops the handler's SYN.
func fullPeer(ctx context.Context, ns *sandbox.NetNS, _ map[string]string, obs *exercises.Observations) error {
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	err := ns.Do(func() error {
		lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		fds = append(fds, lfd)
		sa := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 7000}
		if err := unix.Bind(lfd, sa); err != nil {
			return err
		}
		if err := unix.Listen(lfd, 0); err != nil {
			return err
		}
		for i := 0; i < 4; i++ {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			unix.Connect(fd, sa)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("full-queue listener: %w", err)
	}
	time.Sleep(20 * time.Millisecond) // let the filler handshakes settle
	ns.Ready()
	<-ctx.Done()
	return nil
}
