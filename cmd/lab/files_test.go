package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

// TestReadFilesNamesThemForTheBuild: a file's name on the student's disk
// never reaches the build, and its problems come back under that name.
func TestReadFilesNamesThemForTheBuild(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "connect-ref.go"), filepath.Join(dir, "Helpers_linux.go")
	os.WriteFile(a, []byte("package handler\n"), 0o644)
	os.WriteFile(b, []byte("package handler\n"), 0o644)
	files, names, err := readFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != "handler.go" || files[1].Name != "file2.go" {
		t.Fatalf("files = %+v, want handler.go and file2.go", files)
	}
	res := &grading.Result{Message: "the handler does not compile (1 problems); the first: file2.go:3:1: undefined: x",
		Problems: []builder.Problem{{File: "file2.go", Line: 3, Col: 1, Msg: "undefined: x"}}}
	yourNames(res, names)
	if res.Problems[0].File != b || res.Message != "the handler does not compile (1 problems); the first: "+b+":3:1: undefined: x" {
		t.Errorf("after yourNames: %+v", res)
	}
}
