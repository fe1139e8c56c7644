package grading_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
// see. LAB_STABILITY_ONLY limits it to a comma-separated list of exercises.
//
//	go test -run '^$' -bench GraderStability -benchtime 1x ./grading/
//
// It is a benchmark, not a test: a full round takes about an hour.
func BenchmarkGraderStability(b *testing.B) {
	n := envInt("LAB_STABILITY_N", 20)
	hogs := envInt("LAB_STABILITY_HOGS", 2)
	only := os.Getenv("LAB_STABILITY_ONLY")
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
				for range n {
					res, err := g.Grade(context.Background(), grading.Submission{
						Exercise: ex, Files: []builder.File{{Name: "handler.go", Data: c.src}}})
					if err != nil {
						b.Fatalf("%s/%s: %v", ex.Slug, c.name, err)
					}
					grades++
					if why := c.misjudged(res); why != "" {
						misjudged++
						flaky[ex.Slug+"/"+c.name]++
						b.Logf("%s/%s: %s\n%s", ex.Slug, c.name, why, describe(res))
					}
				}
			}
		}
	}
	var names []string
	for k, v := range flaky {
		names = append(names, fmt.Sprintf("%s %d/%d", k, v, n*b.N))
	}
	sort.Strings(names)
	fmt.Printf("grader stability: %d grades under %d CPU hogs in %v, %d misjudged (%.2f%%)\n",
		grades, hogs, time.Since(start).Round(time.Second), misjudged, 100*float64(misjudged)/float64(max(grades, 1)))
	for _, s := range names {
		fmt.Println("  misjudged:", s)
	}
	b.ReportMetric(float64(misjudged)/float64(max(grades, 1)), "misjudged/grade")
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}
