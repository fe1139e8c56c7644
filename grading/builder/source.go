// Package builder turns a student's Go source into a binary, safely: it
// checks the source before any tool sees it, writes the module files
// itself, and runs the Go toolchain offline inside a build sandbox.
//
// [Builder.Prepare] compiles, once, everything a build may link (the
// engine, the harnesses, the allowed standard library) into a warm cache,
// with the go command in the sandbox. A build then compiles only the
// student's package and the harness's main package and links them, with
// the compiler and linker called directly (toolrun) against that cache,
// which the build box can only read: no package loading and no cache
// checks, about half the time of `go build` (BenchmarkBuild).
package builder

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is one source file of a submission.
type File struct {
	Name string
	Data []byte
}

// Policy says what a submission may contain.
type Policy struct {
	Package   string   // the package name every file must declare, such as "handler"
	Imports   []string // import paths allowed besides the standard ones in SafeStd
	MaxFiles  int
	MaxFile   int // bytes per file
	MaxTotal  int // bytes in all
	MaxErrors int // problems reported before giving up
}

// EngineImports are the packages a handler uses to reach the kernel.
var EngineImports = []string{
	"github.com/asynclab/asynclab/engine",
	"github.com/asynclab/asynclab/engine/sys",
}

// SafeStd is the part of the standard library a handler may import: pure
// computation and formatting, nothing that reaches the OS except through
// the engine, and nothing that defeats the type system.
var SafeStd = []string{
	"bytes", "cmp", "container/heap", "container/list", "container/ring", "encoding/binary",
	"encoding/hex", "errors", "fmt", "hash/crc32", "hash/fnv", "iter", "maps", "math",
	"math/bits", "math/rand/v2", "slices", "sort", "strconv", "strings", "sync", "sync/atomic",
	"time", "unicode", "unicode/utf8",
}

// DefaultPolicy is the policy for a handler package named pkg.
func DefaultPolicy(pkg string) Policy {
	return Policy{Package: pkg, Imports: EngineImports, MaxFiles: 8, MaxFile: 64 << 10, MaxTotal: 256 << 10, MaxErrors: 20}
}

// Problem is one reason a submission was rejected, at a place in the
// student's own file.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"` // 1-based; 0 when the problem is about the file as a whole
	Col  int    `json:"col"`
	Msg  string `json:"msg"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return p.Msg
}

// RejectError lists what is wrong with a submission. Its message is safe to
// show to the student.
type RejectError struct{ Problems []Problem }

func (e *RejectError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

var fileName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}\.go$`)

// platformSuffixes would make the go tool skip a file silently.
var platformSuffixes = []string{"_test", "_linux", "_amd64", "_arm64", "_windows", "_darwin", "_386", "_unix"}

// Check parses the files and rejects, naming the line, anything the policy
// does not allow: imports off the allowlist, cgo, compiler directives,
// build constraints, the wrong package name, odd file names and oversize
// files. It never runs a tool.
func Check(files []File, pol Policy) error {
	var probs []Problem
	add := func(p Problem) bool {
		probs = append(probs, p)
		return len(probs) < pol.MaxErrors
	}
	if len(files) == 0 {
		return &RejectError{[]Problem{{Msg: "the submission has no files"}}}
	}
	if len(files) > pol.MaxFiles {
		return &RejectError{[]Problem{{Msg: fmt.Sprintf("the submission has %d files; at most %d are allowed", len(files), pol.MaxFiles)}}}
	}
	total := 0
	seen := map[string]bool{}
	allowed := map[string]bool{}
	for _, p := range append(slices.Clone(SafeStd), pol.Imports...) {
		allowed[p] = true
	}
	fset := token.NewFileSet()
	for _, f := range files {
		total += len(f.Data)
		name := f.Name
		switch {
		case !fileName.MatchString(name):
			add(Problem{File: safeName(name), Msg: "file names must be lowercase letters, digits and _ ending in .go"})
			continue
		case seen[name]:
			add(Problem{File: name, Msg: "duplicate file name"})
			continue
		case hasPlatformSuffix(name):
			add(Problem{File: name, Msg: "a _test, OS or architecture suffix would make the go tool skip this file; rename it"})
			continue
		case len(f.Data) > pol.MaxFile:
			add(Problem{File: name, Msg: fmt.Sprintf("file is %d bytes; at most %d are allowed", len(f.Data), pol.MaxFile)})
			continue
		case !utf8.Valid(f.Data):
			add(Problem{File: name, Msg: "file is not valid UTF-8"})
			continue
		}
		seen[name] = true
		af, err := parser.ParseFile(fset, name, f.Data, parser.ParseComments|parser.AllErrors)
		if err != nil {
			// Every syntax error, each at its line, as the editor marks them.
			var list scanner.ErrorList
			if !errors.As(err, &list) {
				add(Problem{File: name, Msg: err.Error()})
				continue
			}
			for _, e := range list {
				if !add(Problem{File: name, Line: e.Pos.Line, Col: e.Pos.Column, Msg: e.Msg}) {
					break
				}
			}
			continue
		}
		if !checkFile(fset, af, name, pol, allowed, add) {
			break
		}
	}
	if total > pol.MaxTotal {
		probs = append(probs, Problem{Msg: fmt.Sprintf("the submission is %d bytes; at most %d are allowed", total, pol.MaxTotal)})
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			if probs[i].File != probs[j].File {
				return probs[i].File < probs[j].File
			}
			return probs[i].Line < probs[j].Line
		})
		return &RejectError{probs}
	}
	return nil
}

func hasPlatformSuffix(name string) bool {
	base := strings.TrimSuffix(name, ".go")
	for _, s := range platformSuffixes {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	return false
}

// safeName keeps a hostile file name from reaching a message unescaped.
func safeName(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return strconv.Quote(s)
}

func checkFile(fset *token.FileSet, f *ast.File, name string, pol Policy, allowed map[string]bool, add func(Problem) bool) bool {
	at := func(pos token.Pos) (int, int) {
		p := fset.Position(pos)
		return p.Line, p.Column
	}
	if f.Name.Name != pol.Package {
		l, c := at(f.Name.Pos())
		if !add(Problem{File: name, Line: l, Col: c, Msg: fmt.Sprintf("package must be %q, not %q", pol.Package, f.Name.Name)}) {
			return false
		}
	}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		l, c := at(imp.Pos())
		switch {
		case err != nil:
			p = imp.Path.Value
			fallthrough
		case p == "C":
			if !add(Problem{File: name, Line: l, Col: c, Msg: "cgo is not allowed"}) {
				return false
			}
		case !allowed[p]:
			if !add(Problem{File: name, Line: l, Col: c, Msg: fmt.Sprintf("import %q is not allowed here; handlers reach the kernel through the engine (allowed: %s)", p, allowedSummary(pol))}) {
				return false
			}
		case imp.Name != nil && imp.Name.Name == ".":
			if !add(Problem{File: name, Line: l, Col: c, Msg: "dot imports are not allowed"}) {
				return false
			}
		}
	}
	for _, cg := range f.Comments {
		for _, cm := range cg.List {
			text := cm.Text
			l, c := at(cm.Pos())
			switch {
			case strings.HasPrefix(text, "//go:build") || strings.HasPrefix(text, "// +build"):
				if !add(Problem{File: name, Line: l, Col: c, Msg: "build constraints are not allowed"}) {
					return false
				}
			case strings.HasPrefix(text, "//go:"):
				d := strings.Fields(text)[0]
				if !add(Problem{File: name, Line: l, Col: c, Msg: fmt.Sprintf("compiler directive %s is not allowed", d)}) {
					return false
				}
			case strings.HasPrefix(text, "//line ") || strings.HasPrefix(text, "/*line "):
				if !add(Problem{File: name, Line: l, Col: c, Msg: "//line directives are not allowed"}) {
					return false
				}
			case strings.HasPrefix(text, "//export ") || strings.HasPrefix(text, "//extern"):
				if !add(Problem{File: name, Line: l, Col: c, Msg: "cgo export directives are not allowed"}) {
					return false
				}
			}
		}
	}
	return true
}

func allowedSummary(pol Policy) string {
	var eng []string
	for _, p := range pol.Imports {
		eng = append(eng, path.Base(p))
	}
	return strings.Join(eng, ", ") + " and, of the standard library, " + strings.Join(SafeStd, ", ")
}
