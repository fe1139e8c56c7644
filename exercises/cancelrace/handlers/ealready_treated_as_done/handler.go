package handler

import (
	"errors"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Handle reads EALREADY as "already cancelled" and reports the read as
// cancelled then; when the read's own completion comes later, with the
// bytes it went on to read, the request has been answered and the bytes
// are dropped.
func Handle(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(),
	afterCancel func(f func(answer func(err error)))) {
	reported := false
	read.Then(func(n int, err error) {
		if !reported {
			reported = true
			if err != nil {
				report(nil, err)
			} else {
				report(read.Buf()[:n], nil)
			}
		}
		release()
	})
	afterCancel(func(answer func(err error)) {
		l.Post("cancel the read", func() {
			l.AsyncCancel(read).Then(func(_ int, err error) {
				answer(err)
				if errors.Is(err, sys.EALREADY) && !reported {
					reported = true
					report(nil, sys.ECANCELED)
				}
			})
		})
	})
}
