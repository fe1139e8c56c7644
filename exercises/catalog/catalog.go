// Package catalog lists every exercise of the lab.
package catalog

import (
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/batching"
	"github.com/asynclab/asynclab/exercises/cancelrace"
	"github.com/asynclab/asynclab/exercises/connect"
	"github.com/asynclab/asynclab/exercises/deadlock"
	"github.com/asynclab/asynclab/exercises/headofline"
	"github.com/asynclab/asynclab/exercises/ordering"
	"github.com/asynclab/asynclab/exercises/readiness"
)

// All returns every exercise students see, in the order a course would
// take them: each has its grader proven on an independent corpus (see
// TestExercisesProveTheirGraders).
func All() []*exercises.Exercise {
	return []*exercises.Exercise{
		connect.Exercise(),
		batching.Exercise(),
		deadlock.Exercise(),
		headofline.Exercise(),
	}
}

// Pending returns the exercises whose graders are proven on their own
// handlers (reference, starter, known-wrong variants) and that wait for
// their independent corpus before students see them. The grader's tests
// prove them as they prove the others.
func Pending() []*exercises.Exercise {
	return []*exercises.Exercise{
		readiness.Exercise(),
		cancelrace.Exercise(),
		ordering.Exercise(),
	}
}

// Find returns the exercise with slug, or nil.
func Find(slug string) *exercises.Exercise {
	for _, ex := range All() {
		if ex.Slug == slug {
			return ex
		}
	}
	return nil
}

// Harnesses returns the import paths of every exercise's harness, which
// the builder vendors next to the engine.
func Harnesses() []string {
	var out []string
	for _, ex := range append(All(), Pending()...) {
		out = append(out, ex.Child)
	}
	return out
}
