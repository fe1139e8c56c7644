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
	Best, BestRun                  string // this browser's best score ("7/10") and its run, or ""
}

// ScenarioItem is a scenario a run can be limited to.
type ScenarioItem struct{ Name, Title string }

// RunItem is one recorded run in a list.
type RunItem struct {
	ID, Exercise, Mode, Status, Verdict, Created, Backends string
	Score, Max                                             int
}

// RunPageView is a recorded run's page.
type RunPageView struct {
	RunItem
	Title     string
	Code      string // "" for reference runs, whose code is not shown
	Reference bool
	Others    []RunItem // this browser's other runs of the exercise, to compare with
}

// ExerciseView is what the exercise page shows.
type ExerciseView struct {
	ExerciseItem
	InstructionsHTML string // rendered from the exercise's Markdown, trusted
	Predict          string
	Starter          string
	Signature        string
	Scenarios        []ScenarioItem
	Recent           []RunItem // this browser's latest runs of the exercise
}

// Status is the host's readiness, shown on every page when grading is off.
type Status struct {
	Ready  bool
	Reason string
}
