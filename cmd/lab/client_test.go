package main

import (
	"testing"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
)

// startRun starts a run of code in mode ("run" or "submit") on connect,
// as a browser does, and returns its id.
func startRun(t *testing.T, base, code, mode string) string {
	t.Helper()
	return startRunOn(t, base, "connect", code, mode)
}

// startRunOn starts a run of code in mode on the exercise slug, as a new
// browser (so, a new student) does, and returns its id.
func startRunOn(t *testing.T, base, slug, code, mode string) string {
	t.Helper()
	id, err := startRunAs(base, slug, code, mode)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// submitReference submits connect's reference to the server at base and
// returns the run's id and the code.
func submitReference(t *testing.T, base string) (string, []byte) {
	t.Helper()
	for _, ex := range catalog.All() {
		if ex.Slug == "connect" {
			return startRun(t, base, string(ex.Reference), "submit"), ex.Reference
		}
	}
	t.Fatal("no connect exercise")
	return "", nil
}

// waitTrack waits until run id's handler runs in the sandbox.
func waitTrack(t *testing.T, base, id string) {
	t.Helper()
	if _, err := readRun(base, id, "track", time.Minute); err != nil {
		t.Fatal(err)
	}
}
