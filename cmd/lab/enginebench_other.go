//go:build !linux

package main

import (
	"context"
	"errors"

	"github.com/asynclab/asynclab/internal/bench/enginebench"
)

// benchEngine needs Linux: it measures the engine on this machine's kernel.
func benchEngine(context.Context, *Main, enginebench.Options) error {
	return errors.New("lab bench engine needs Linux: it measures epoll and io_uring on this machine's kernel")
}

// benchChild is false: there are no echo servers to be here.
func benchChild() bool { return false }
