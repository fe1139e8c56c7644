package main

import (
	"os"
	"testing"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/internal/pgtest"
)

// TestMain lets the test binary serve as box-init, as the lab binary does:
// the sandbox starts every box by re-executing the running program. A
// PostgreSQL cluster started for the tests is stopped after them.
func TestMain(m *testing.M) {
	if sandbox.IsInit() {
		sandbox.InitMain()
	}
	os.Exit(pgtest.Run(m))
}
