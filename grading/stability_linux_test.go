package grading_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
)

// BenchmarkGraderStability grades every exercise's reference, known-wrong
// variants and corpus handlers LAB_STABILITY_N times each (default 20)
// while LAB_STABILITY_HOGS processes spin on the CPU (default 2), and
// reports how often a handler was judged otherwise than it should be: a
// check's verdict that changes from run to run is a flake a student would
// see. LAB_STABILITY_ONLY limits it to a comma-separated list of exercises,
// LAB_STABILITY_HANDLERS to a comma-separated list of handler names.
//
// LAB_STABILITY_JOURNAL names a file that keeps one line per grade, so a
// round can span several sittings: a handler already graded there counts
// its grades and is graded only as many more times as it lacks. The
// misjudged grades are described in the same file, after a tab.
// LAB_STABILITY_TRACES names a folder that keeps the raw traces of every
// misjudged grade, one file per track, to look at afterwards.
//
//	go test -run '^$' -bench GraderStability -benchtime 1x ./grading/
//
// It is a benchmark, not a test: a full round takes about an hour.
func BenchmarkGraderStability(b *testing.B) {
	n := envInt("LAB_STABILITY_N", 20)
	hogs := envInt("LAB_STABILITY_HOGS", 2)
	only, handlers := os.Getenv("LAB_STABILITY_ONLY"), os.Getenv("LAB_STABILITY_HANDLERS")
	g := newGrader(b)
	for range hogs {
		hog := exec.Command("sh", "-c", "while :; do :; done")
		hog.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := hog.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { hog.Process.Kill(); hog.Wait() })
	}
	var (
		grades, misjudged int
		flaky             = map[string]int{}
		start             = time.Now()
	)
	journal, done := openJournal(b, os.Getenv("LAB_STABILITY_JOURNAL"))
	for name, d := range done {
		grades += d.grades
		misjudged += d.misjudged
		if d.misjudged > 0 {
			flaky[name] += d.misjudged
		}
	}
	for range b.N {
		for _, ex := range catalog.All() {
			if only != "" && !strings.Contains(","+only+",", ","+ex.Slug+",") {
				continue
			}
			cases := []corpusHandler{{name: "reference", src: ex.Reference, pass: true}}
			for _, v := range ex.Variants {
				cases = append(cases, corpusHandler{name: v.Name, src: v.Source, fails: v.Fails})
			}
			cases = append(cases, loadCorpus(b, ex.Slug)...)
			for _, c := range cases {
				if handlers != "" && !strings.Contains(","+handlers+",", ","+c.name+",") {
					continue
				}
				key := ex.Slug + "/" + c.name
				for range n - done[key].grades {
					res, err := g.Grade(context.Background(), grading.Submission{
						Exercise: ex, Files: []builder.File{{Name: "handler.go", Data: c.src}}})
					grades++
					var why string
					if err != nil {
						// The lab's own failure: the student would be told
						// the run failed on our side. It counts, and the
						// sitting goes on.
						why = "the grader failed: " + err.Error()
					} else {
						why = c.misjudged(res)
					}
					if why != "" {
						misjudged++
						flaky[key]++
						b.Logf("%s: %s\n%s", key, why, describe(res))
						keepTraces(b, os.Getenv("LAB_STABILITY_TRACES"), key, res)
					}
					journal.record(b, key, why, describe(res), reruns(res))
					res.Close()
				}
			}
		}
	}
	var names []string
	for k, v := range flaky {
		names = append(names, fmt.Sprintf("%s %d/%d", k, v, max(n*b.N, done[k].grades)))
	}
	sort.Strings(names)
	fmt.Printf("grader stability: %d grades under %d CPU hogs in %v, %d misjudged (%.2f%%)\n",
		grades, hogs, time.Since(start).Round(time.Second), misjudged, 100*float64(misjudged)/float64(max(grades, 1)))
	for _, s := range names {
		fmt.Println("  misjudged:", s)
	}
	b.ReportMetric(float64(misjudged)/float64(max(grades, 1)), "misjudged/grade")
}

// keepTraces writes the raw trace of each of res's tracks into dir, named
// after the handler, the time and the track.
func keepTraces(b *testing.B, dir, key string, res *grading.Result) {
	if dir == "" || res == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	stamp := time.Now().Format("150405.000")
	for _, rec := range res.Recordings() {
		name := fmt.Sprintf("%s-%s-%s.trace", strings.ReplaceAll(key, "/", "-"), stamp, rec.Track)
		data, err := io.ReadAll(rec.Open())
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// reruns is how many runs res ran again beyond their first try.
func reruns(res *grading.Result) int {
	n := 0
	for _, r := range res.Runs {
		n += max(r.Tries, 1) - 1
	}
	return n
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// stabilityJournal appends one line per grade: the handler, "ok" or
// "misjudged", and for a misjudged grade why and the grade, quoted.
type stabilityJournal struct{ f *os.File }

type journalCount struct{ grades, misjudged int }

// openJournal opens (or creates) the journal at path and counts the
// grades it already holds per handler. An empty path keeps no journal.
func openJournal(b *testing.B, path string) (*stabilityJournal, map[string]journalCount) {
	done := map[string]journalCount{}
	if path == "" {
		return &stabilityJournal{}, done
	}
	if data, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.SplitN(line, "\t", 3)
			if len(f) < 2 || strings.HasPrefix(line, "#") {
				continue
			}
			c := done[f[0]]
			c.grades++
			if f[1] == "misjudged" {
				c.misjudged++
			}
			done[f[0]] = c
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	fmt.Fprintf(f, "# %s: a sitting starts\n", time.Now().Format(time.RFC3339))
	return &stabilityJournal{f}, done
}

// record journals one grade. A grade that ran runs again (a failure on
// a starved stretch) says how many: "key\tok\treruns=2".
func (j *stabilityJournal) record(b *testing.B, key, why, grade string, reruns int) {
	if j.f == nil {
		return
	}
	line := key + "\tok"
	if why != "" {
		line = fmt.Sprintf("%s\tmisjudged\t%q %q", key, why, grade)
	}
	if reruns > 0 {
		line += fmt.Sprintf("\treruns=%d", reruns)
	}
	line += "\n"
	if _, err := j.f.WriteString(line); err != nil {
		b.Fatal(err)
	}
}
