package handler

import (
	"errors"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Handle reports the read when it completes, and again when a cancel that
// came too late answers ENOENT: the request gets a second report.
func Handle(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(),
	afterCancel func(f func(answer func(err error)))) {
	read.Then(func(n int, err error) {
		if err != nil {
			report(nil, err)
		} else {
			report(read.Buf()[:n], nil)
		}
		release()
	})
	afterCancel(func(answer func(err error)) {
		l.Post("cancel the read", func() {
			l.AsyncCancel(read).Then(func(_ int, err error) {
				answer(err)
				if errors.Is(err, sys.ENOENT) {
					report(nil, sys.ENOENT) // the read was not found: tell the requester
				}
			})
		})
	})
}
