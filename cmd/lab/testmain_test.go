package main

import (
	"os"
	"testing"

	"github.com/asynclab/asynclab/engine/sandbox"
)

// TestMain lets the test binary serve as box-init, as the lab binary does:
// the sandbox starts every box by re-executing the running program.
func TestMain(m *testing.M) {
	if sandbox.IsInit() {
		sandbox.InitMain()
	}
	os.Exit(m.Run())
}
