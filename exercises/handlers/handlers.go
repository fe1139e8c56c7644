// Package handlers reads an exercise's handler sources (starter, reference,
// known-wrong variants) from the exercise's embedded handlers/ folder.
package handlers

import (
	"fmt"
	"io/fs"
)

// Must returns the source of the handler in dir, which holds one file,
// handler.go. It panics if the file is missing: that is a bug in the
// exercise, caught by the tests that load every exercise.
func Must(fsys fs.FS, dir string) []byte {
	b, err := fs.ReadFile(fsys, "handlers/"+dir+"/handler.go")
	if err != nil {
		panic(fmt.Sprintf("exercise handler %s: %v", dir, err))
	}
	return b
}
