// Command toolrun builds a submission inside the build box by calling
// the Go toolchain's compiler and linker directly, as `go build` would
// but without its package loading and cache checks: it compiles the
// handler package, then the harness's main package, then links them
// with packages the builder compiled once when it was prepared. The
// builder compiles toolrun on the host and runs it in the build sandbox.
//
// Usage, in the workspace (handler files are named relative to it):
//
//	toolrun -tools DIR -importcfg FILE -lang go1.N -o PROGRAM handler/a.go ...
//
// The compiler's messages go to stdout as `go build` prints them
// ("handler/a.go:3:2: ..."), and a failed step exits 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "toolrun:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("toolrun", flag.ContinueOnError)
	tools := fs.String("tools", "", "the toolchain's tool directory (compile, link)")
	importcfg := fs.String("importcfg", "", "packagefile lines for every package a build may link")
	lang := fs.String("lang", "", "the Go language version of the module")
	out := fs.String("o", "", "the program to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tools == "" || *importcfg == "" || *lang == "" || *out == "" || fs.NArg() == 0 {
		return errors.New("usage: toolrun -tools DIR -importcfg FILE -lang go1.N -o PROGRAM FILE...")
	}
	ws, err := os.Getwd()
	if err != nil {
		return err
	}
	work := filepath.Dir(*out)
	cfg, err := os.ReadFile(*importcfg)
	if err != nil {
		return err
	}
	handlerA := filepath.Join(work, "handler.a")
	mainA := filepath.Join(work, "main.a")
	cfgAll := filepath.Join(work, "importcfg")
	cfg = append(cfg, "packagefile submission/handler="+handlerA+"\n"...)
	if err := os.WriteFile(cfgAll, cfg, 0o644); err != nil {
		return err
	}
	// -trimpath records the workspace's files as submission/..., as
	// `go build -trimpath` does; -complete says there is no assembly.
	common := []string{"-lang=" + *lang, "-complete", "-trimpath=" + ws + "=>submission", "-nolocalimports", "-pack"}
	compile, link := filepath.Join(*tools, "compile"), filepath.Join(*tools, "link")
	steps := [][]string{
		append(append([]string{compile, "-o", handlerA, "-p", "submission/handler", "-importcfg", *importcfg}, common...), fs.Args()...),
		append(append([]string{compile, "-o", mainA, "-p", "main", "-importcfg", cfgAll}, common...), "main.go"),
		{link, "-o", *out, "-importcfg", cfgAll, "-buildmode=exe", "-s", "-w", mainA},
	}
	for _, step := range steps {
		cmd := exec.Command(step[0], step[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(step[0]), err)
		}
	}
	return nil
}
