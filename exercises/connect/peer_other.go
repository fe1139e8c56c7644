//go:build !linux

package connect

import (
	"context"
	"errors"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises"
)

// fullPeer needs Linux, as every run of a handler does.
func fullPeer(context.Context, *sandbox.NetNS, map[string]string, *exercises.Observations) error {
	return errors.New("the full-queue listener needs Linux")
}
