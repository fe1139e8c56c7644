package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

// errChecksFailed makes `lab grade` exit non-zero without printing more.
var errChecksFailed = errors.New("not every check passed")

// gradeCmd is `lab grade EXERCISE FILE... [--json]`.
type gradeCmd struct {
	exercise *exercises.Exercise
	files    []string
	json     bool
	dataDir  string
}

func parseGrade(args []string) (command, error) {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	c := &gradeCmd{}
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	fs.StringVar(&c.dataDir, "data", "lab-data", "where builds, results and traces are kept")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) < 2 {
		return nil, fmt.Errorf("%w: grade needs an exercise and at least one file", errUsage)
	}
	if c.exercise = catalog.Find(pos[0]); c.exercise == nil {
		return nil, fmt.Errorf("unknown exercise %q (available: %s)", pos[0], slugs())
	}
	c.files = pos[1:]
	return c, nil
}

func (c *gradeCmd) run(ctx context.Context, m *Main) error {
	files, names, err := readFiles(c.files)
	if err != nil {
		return err
	}
	g, err := newGrader(ctx, m, c.dataDir)
	if err != nil {
		return err
	}
	res, err := g.Grade(ctx, grading.Submission{Exercise: c.exercise, Files: files})
	if err != nil {
		return err
	}
	yourNames(res, names)
	if c.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		writeResult(m.Stdout, res)
	}
	if res.Verdict != grading.Passed {
		return errChecksFailed
	}
	return nil
}

func writeResult(w io.Writer, res *grading.Result) {
	fmt.Fprintf(w, "%s: %s\n", res.Exercise, res.Message)
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	for _, c := range res.Checks {
		mark := map[exercises.Status]string{exercises.StatusPassed: "PASS", exercises.StatusFailed: "FAIL",
			exercises.StatusNotReached: "----", exercises.StatusNotEvaluated: "????"}[c.Status]
		if mark == "" {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %3d/%-3d %s\n", mark, c.Points, c.Max, c.Title)
		switch c.Status {
		case exercises.StatusPassed:
			if c.Message != "" {
				fmt.Fprintf(w, "          note: %s\n", c.Message)
			}
		case exercises.StatusNotReached:
			fmt.Fprintf(w, "          not reached: %s\n", c.Message)
		case exercises.StatusNotEvaluated:
			fmt.Fprintf(w, "          not evaluated: %s\n", c.Message)
		case exercises.StatusFailed:
			fmt.Fprintf(w, "          what happened: %s\n", c.Message)
			if c.Ref != nil {
				fmt.Fprintf(w, "          where: %s on %s, at %s (event %d%s)\n", c.Ref.Scenario, c.Ref.Backend.Name(),
					time.Duration(c.Ref.Time).Round(time.Microsecond), c.Ref.Seq, opText(c.Ref.Op))
			}
			fmt.Fprintf(w, "          hint: %s\n", c.Hint)
		}
	}
	for _, r := range res.Runs {
		if r.Stderr != "" {
			fmt.Fprintf(w, "stderr of %s on %s:\n%s\n", r.Scenario, r.Backend.Name(), indent(r.Stderr))
			if r.StderrTail != "" {
				fmt.Fprintf(w, "          …\n%s\n", indent(r.StderrTail))
			}
		}
	}
	if len(res.Checks) > 0 {
		fmt.Fprintf(w, "score %d/%d (build %v)\n", res.Score, res.Max, res.Build.Round(time.Millisecond))
	}
}

func opText(op uint64) string {
	if op == 0 {
		return ""
	}
	return fmt.Sprintf(", op %#x", op)
}

// runExerciseCmd is `lab run EXERCISE` for a graded exercise: the starter
// (or --file) in every scenario, with a text timeline of each run.
type runExerciseCmd struct {
	exercise *exercises.Exercise
	backends []backend.Kind
	file     string
	dataDir  string
}

func (c *runExerciseCmd) run(ctx context.Context, m *Main) error {
	var files []builder.File
	var names map[string]string
	if c.file != "" {
		var err error
		if files, names, err = readFiles([]string{c.file}); err != nil {
			return err
		}
	} else {
		files = []builder.File{{Name: "handler.go", Data: c.exercise.Starter}}
	}
	g, err := newGrader(ctx, m, c.dataDir)
	if err != nil {
		return err
	}
	// Run only on the backends the exercise is meant for.
	var backends []backend.Kind
	for _, k := range c.backends {
		if slices.Contains(c.exercise.Backends, k) {
			backends = append(backends, k)
		}
	}
	if len(backends) == 0 {
		return fmt.Errorf("%s runs on %v only", c.exercise.Slug, c.exercise.Backends)
	}
	res, err := g.Run(ctx, grading.Submission{Exercise: c.exercise, Files: files, Backends: backends})
	if err != nil {
		return err
	}
	yourNames(res, names)
	if res.Verdict == grading.CompileError {
		writeResult(m.Stdout, res)
		return errChecksFailed
	}
	for _, r := range res.RunDetails() {
		fmt.Fprintf(m.Stdout, "== %s (%s) on %s\n", r.Scenario.Name, r.Scenario.Title, r.Backend.Name())
		if r.Trace != nil {
			trace.WriteText(m.Stdout, r.Trace, trace.TextOptions{Kinds: timelineKinds, MaxEvents: 400, Lint: c.exercise.Lints})
		}
		switch {
		case r.Answer != "":
			fmt.Fprintf(m.Stdout, "   the handler answered: %s\n", r.Answer)
		case r.Never != "":
			fmt.Fprintf(m.Stdout, "   no answer: %s\n", r.Never)
		}
		if r.Error != "" {
			fmt.Fprintf(m.Stdout, "   the run ended badly: %s\n", r.Error)
		}
		if r.Box.Verdict != sandbox.VerdictOK {
			fmt.Fprintf(m.Stdout, "   sandbox: %s: %s\n", r.Box.Verdict, r.Box.Reason)
		}
		for _, out := range []struct {
			name string
			data []byte
		}{{"stdout", r.Box.Stdout}, {"stderr", r.Box.StderrHead}} {
			if len(out.data) > 0 {
				fmt.Fprintf(m.Stdout, "   %s:\n%s\n", out.name, indent(string(out.data)))
			}
		}
		fmt.Fprintln(m.Stdout)
	}
	fmt.Fprintf(m.Stdout, "grade it with: lab grade %s FILE\n", c.exercise.Slug)
	return nil
}

// newGrader makes the builder and grader under dir. The first build on a
// machine compiles the engine into a cache, which takes a while; later
// builds reuse it.
func newGrader(ctx context.Context, m *Main, dir string) (*grading.Grader, error) {
	if err := sandbox.Ready(); err != nil {
		return nil, fmt.Errorf("this host cannot run submissions safely, so the lab will not run them: %w (see `lab doctor`)", err)
	}
	start := time.Now()
	g, err := prepareGrader(ctx, m, dir)
	if err != nil {
		return nil, err
	}
	if d := time.Since(start); d > time.Second {
		fmt.Fprintf(m.Stderr, "build sandbox ready in %v\n", d.Round(100*time.Millisecond))
	}
	return g, nil
}

// readFiles reads a submission's files. Inside the build they get the
// lab's own names (handler.go, then file2.go, ...), so that a file's name
// on the student's disk (connect-ref.go, my_linux.go) is never a compile
// error of theirs; names maps each back to the path given.
func readFiles(paths []string) ([]builder.File, map[string]string, error) {
	var files []builder.File
	names := map[string]string{}
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read submission: %w", err)
		}
		name := "handler.go"
		if i > 0 {
			name = fmt.Sprintf("file%d.go", i+1)
		}
		names[name] = p
		files = append(files, builder.File{Name: name, Data: data})
	}
	return files, names, nil
}

// yourNames gives res's compile problems back the paths the student gave.
func yourNames(res *grading.Result, names map[string]string) {
	var pairs []string
	for name, p := range names {
		pairs = append(pairs, name+":", p+":")
	}
	for i := range res.Problems {
		if p, ok := names[res.Problems[i].File]; ok {
			res.Problems[i].File = p
		}
	}
	res.Message = strings.NewReplacer(pairs...).Replace(res.Message)
}

func slugs() string {
	var s []string
	for _, ex := range catalog.All() {
		s = append(s, ex.Slug)
	}
	return strings.Join(append([]string{"demo"}, s...), ", ")
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	return pos, nil
}

// indent indents every line of s for the terminal report.
func indent(s string) string {
	return "          " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n          ")
}
