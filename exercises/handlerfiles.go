package exercises

import (
	"fmt"
	"io/fs"
)

// HandlerSource returns the source of one of an exercise's handlers
// (starter, reference, a known-wrong variant) from the exercise's
// embedded folder fsys: handlers/dir/handler.go. It panics if the file is
// missing: that is a bug in the exercise, caught by the tests that load
// every exercise.
func HandlerSource(fsys fs.FS, dir string) []byte {
	b, err := fs.ReadFile(fsys, "handlers/"+dir+"/handler.go")
	if err != nil {
		panic(fmt.Sprintf("exercise handler %s: %v", dir, err))
	}
	return b
}
