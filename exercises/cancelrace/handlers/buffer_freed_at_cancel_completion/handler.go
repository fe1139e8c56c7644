package handler

import "github.com/asynclab/asynclab/engine"

// Handle gives the buffer back when the cancel completes, as if the cancel
// ended the read. On io_uring the read's own completion comes after the
// cancel's: with EALREADY the kernel is still copying into the buffer.
func Handle(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(),
	afterCancel func(f func(answer func(err error)))) {
	released := false
	free := func() {
		if !released {
			released = true
			release()
		}
	}
	read.Then(func(n int, err error) {
		if err != nil {
			report(nil, err)
		} else {
			report(read.Buf()[:n], nil)
		}
		free()
	})
	afterCancel(func(answer func(err error)) {
		l.Post("cancel the read", func() {
			l.AsyncCancel(read).Then(func(_ int, err error) {
				answer(err)
				free()
			})
		})
	})
}
