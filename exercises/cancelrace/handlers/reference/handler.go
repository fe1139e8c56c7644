package handler

import "github.com/asynclab/asynclab/engine"

// Handle sees one read through: it reports the read's outcome once, gives
// the buffer back once the read is over, and answers a cancel request with
// what the kernel said about it.
//
// Only the read's own completion says how the read ended: the bytes, or
// ECANCELED when the cancel won. So the report and the release both wait
// for it. The cancel request comes on another goroutine, and a read belongs
// to the loop, so the request is posted to the loop; there AsyncCancel asks
// the kernel, and its answer (nil, EALREADY or ENOENT) goes to the
// canceller as it is. Everything this handler keeps lives on the loop: no
// flag is shared with another goroutine.
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
			l.AsyncCancel(read).Then(func(_ int, err error) { answer(err) })
		})
	})
}
