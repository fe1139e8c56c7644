//go:build !linux

package main

import (
	"context"
	"errors"
)

// run would run the demo: it needs Linux, whose kernel it shows.
func (c *runCmd) run(context.Context, *Main) error {
	return errors.New("lab run demo needs Linux: it runs the engine on this machine's kernel")
}
