// Corpus: fail outcome real-connection never-blocked waits-writable deadline no-premature-use no-fd-leak
// Mistake: Makes no attempt at all: it reports ETIMEDOUT at once without creating a socket, so it must earn nothing for the work it skipped.
package handler

import (
	"time"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/sys"
)

// Connect starts a non-blocking connect to addr and calls done exactly once.
func Connect(l *engine.Loop, addr sys.Sockaddr, deadline time.Duration, done func(fd int, err error)) {
	// TODO: the non-blocking connect.
	done(-1, sys.ETIMEDOUT)
}
