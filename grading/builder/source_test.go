package builder_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/asynclab/asynclab/grading/builder"
)

func TestCheck(t *testing.T) {
	ok := "package handler\n\nimport (\n\t\"fmt\"\n\t\"github.com/asynclab/asynclab/engine\"\n)\n\nfunc H(l *engine.Loop) { fmt.Println(l) }\n"
	tests := []struct {
		name  string
		files []builder.File
		want  string // substring of the first problem; "" means accepted
		line  int
	}{
		{"ok", []builder.File{{"handler.go", []byte(ok)}}, "", 0},
		{"os import", []builder.File{{"handler.go", []byte("package handler\n\nimport \"os\"\n\nvar _ = os.Args\n")}}, `import "os" is not allowed`, 3},
		{"unsafe", []builder.File{{"handler.go", []byte("package handler\n\nimport (\n\t\"fmt\"\n\t\"unsafe\"\n)\n")}}, `import "unsafe"`, 5},
		{"syscall", []builder.File{{"a.go", []byte("package handler\nimport \"syscall\"\n")}}, `import "syscall"`, 2},
		{"trace recorder", []builder.File{{"a.go", []byte("package handler\nimport \"github.com/asynclab/asynclab/engine/trace\"\n")}}, `import "github.com/asynclab/asynclab/engine/trace"`, 2},
		{"x/sys", []builder.File{{"a.go", []byte("package handler\nimport \"golang.org/x/sys/unix\"\n")}}, `import "golang.org/x/sys/unix"`, 2},
		{"cgo", []builder.File{{"a.go", []byte("package handler\n\n// #include <stdio.h>\nimport \"C\"\n")}}, "cgo is not allowed", 4},
		{"linkname", []builder.File{{"a.go", []byte("package handler\n\n//go:linkname x runtime.x\nvar x int\n")}}, "//go:linkname", 3},
		{"embed directive", []builder.File{{"a.go", []byte("package handler\n\n//go:embed ../../etc/passwd\nvar s string\n")}}, "//go:embed", 3},
		{"build constraint", []builder.File{{"a.go", []byte("//go:build ignore\n\npackage handler\n")}}, "build constraints", 1},
		{"line directive", []builder.File{{"a.go", []byte("package handler\n//line other.go:1\nvar x int\n")}}, "//line", 2},
		{"wrong package", []builder.File{{"a.go", []byte("package main\n")}}, `package must be "handler"`, 1},
		{"syntax error", []builder.File{{"a.go", []byte("package handler\n\nfunc f( {\n")}}, "expected", 3},
		{"bad file name", []builder.File{{"../go.mod", []byte("module x\n")}}, "file names must be", 0},
		{"test file", []builder.File{{"h_test.go", []byte("package handler\n")}}, "suffix", 0},
		{"duplicate", []builder.File{{"a.go", []byte("package handler\n")}, {"a.go", []byte("package handler\n")}}, "duplicate", 0},
		{"oversize", []builder.File{{"a.go", []byte("package handler\n" + strings.Repeat("// x\n", 20000))}}, "bytes; at most", 0},
		{"not utf8", []builder.File{{"a.go", []byte("package handler\nvar s = \"\xff\"\n")}}, "UTF-8", 0},
		{"empty", nil, "no files", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := builder.Check(tt.files, builder.DefaultPolicy("handler"))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var rej *builder.RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("Check() = %v, want a RejectError containing %q", err, tt.want)
			}
			p := rej.Problems[0]
			if !strings.Contains(p.Msg, tt.want) || p.Line != tt.line {
				t.Errorf("Check() first problem = %q (line %d), want %q at line %d", p, p.Line, tt.want, tt.line)
			}
		})
	}
}

// Each syntax error is a problem of its own, at its own line, so the
// editor marks every one.
func TestCheckReportsEverySyntaxError(t *testing.T) {
	src := "package handler\n\nfunc f( {\n}\n\nfunc g() { x := }\n"
	err := builder.Check([]builder.File{{"a.go", []byte(src)}}, builder.DefaultPolicy("handler"))
	var rej *builder.RejectError
	if !errors.As(err, &rej) {
		t.Fatalf("Check() = %v, want a RejectError", err)
	}
	var lines []int
	for _, p := range rej.Problems {
		lines = append(lines, p.Line)
	}
	if len(lines) < 2 || lines[0] != 3 || lines[len(lines)-1] != 6 {
		t.Errorf("problems at lines %v, want the first at 3 and the last at 6: %v", lines, rej.Problems)
	}
}
