// Package templates holds the lab's pages as templ components. The
// generated *_templ.go files are committed; regenerate them with
//
//	go run github.com/a-h/templ/cmd/templ@v0.3.1100 generate ./templates
package templates

// ExerciseItem is one row of the catalogue.
type ExerciseItem struct {
	Slug, Title, Topic, Difficulty string
	Backends                       []string
	Points                         int
}

// ExerciseView is what the exercise page shows.
type ExerciseView struct {
	ExerciseItem
	InstructionsHTML string // rendered from the exercise's Markdown, trusted
	Predict          string
	Starter          string
	Signature        string
}

// CheckView is one check of a result.
type CheckView struct {
	ID, Title, Message, Hint, Where string
	Points, Max                     int
	Passed                          bool
}

// ResultView is a graded submission.
type ResultView struct {
	Exercise, Title, Verdict, Message string
	Score, Max                        int
	Checks                            []CheckView
	Problems                          []string
	Runs                              []RunView
	ID                                string
}

// RunView is one sandboxed run of a result.
type RunView struct {
	Scenario, Backend, Verdict, Answer, Error string
	Events                                    int
	Export                                    string // URL of the run's Chrome Trace Event JSON, or ""
}

// Status is the host's readiness, shown on every page when grading is off.
type Status struct {
	Ready  bool
	Reason string
}
