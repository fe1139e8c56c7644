package handler

import "github.com/asynclab/asynclab/engine"

// Handle sees one read through: it reports the read's outcome once and
// gives the buffer back once the read is over. Cancelling is yours to
// write.
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
		// This runs on another goroutine when the request is cancelled.
		// TODO: cancel the read, and answer with what the cancel found:
		// nil (it stopped the read), EALREADY or ENOENT.
	})
}
