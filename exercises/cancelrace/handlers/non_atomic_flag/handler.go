package handler

import (
	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Handle remembers that a cancel was asked for in a plain flag, written on
// the canceller's goroutine and read on the loop, and decides the report by
// the flag: a read that the cancel was too late for, and which took its
// bytes, is reported as cancelled.
func Handle(l *engine.Loop, read *engine.Op, report func(data []byte, err error), release func(),
	afterCancel func(f func(answer func(err error)))) {
	cancelled := false // written off the loop, read on it: a data race
	read.Then(func(n int, err error) {
		switch {
		case cancelled:
			report(nil, sys.ECANCELED)
		case err != nil:
			report(nil, err)
		default:
			report(read.Buf()[:n], nil)
		}
		release()
	})
	afterCancel(func(answer func(err error)) {
		cancelled = true
		l.Post("cancel the read", func() {
			l.AsyncCancel(read).Then(func(_ int, err error) { answer(err) })
		})
	})
}
