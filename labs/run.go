package labs

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"time"
)

// RunMode says whether a run counts for points.
type RunMode string

// The run modes.
const (
	ModeRun    RunMode = "run"    // a student's try, graded but not for points
	ModeSubmit RunMode = "submit" // a submission, graded for points
)

// Valid reports whether m is one of the run modes.
func (m RunMode) Valid() bool { return m == ModeRun || m == ModeSubmit }

// RunStatus is where a run is in its life: queued, then running, then done
// or interrupted.
type RunStatus string

// The run statuses.
const (
	StatusQueued      RunStatus = "queued"
	StatusRunning     RunStatus = "running"
	StatusDone        RunStatus = "done"
	StatusInterrupted RunStatus = "interrupted" // the server stopped mid-run and the run could not be resumed
)

// Finished reports whether s is a final status: done or interrupted.
func (s RunStatus) Finished() bool { return s == StatusDone || s == StatusInterrupted }

// VerdictInterrupted is the Verdict of an interrupted run. It is the grading
// verdict for a failure that is not the student's fault.
const VerdictInterrupted = "internal-error"

// Run is one grading of a student's handler: what was asked, where it is,
// and, once done, its outcome. Times are UTC when read back from a store.
type Run struct {
	ID       string  // made by the caller, e.g. "20261125-225117-1a2b3c4d"
	Exercise string  // exercise slug
	Mode     RunMode // ModeRun or ModeSubmit
	Client   string  // a person's id ("u-..."), or an anonymous browser's (32 hex digits)
	// Assignment is the assignment a submission was made for; "" for
	// practice and for the open lab.
	Assignment string
	// Regrades, on a submission staff made by grading a student's
	// submission again, names that submission; once done it stands in for
	// it (see [Effective]). "" on every other run.
	Regrades string
	Code     string // the submitted handler source
	// Prediction is the student's answer to the exercise's predict step,
	// made before the run (JSON of an exercises.Answer), or "".
	Prediction string
	// Actual is the real answer the run gave (JSON of an exercises.Answer);
	// "" until done, or when the run did not show it.
	Actual    string
	Backends  []string // "epoll", "uring"
	Scenarios []string // empty: every scenario

	Status  RunStatus
	Verdict string // grading verdict, e.g. "passed", "compile-error"; "" until finished
	Reason  string // why the run was interrupted; "" otherwise
	Score   int
	Max     int
	Result  []byte // the grading.Result as JSON; nil until done

	Created  time.Time
	Started  time.Time // zero until running
	Finished time.Time // zero until done or interrupted
}

// Outcome is how a run ended, as grading reported it.
type Outcome struct {
	Verdict  string // required
	Score    int
	Max      int
	Result   []byte // the grading.Result as JSON
	Actual   string // the real answer to the exercise's prediction, JSON, or ""
	Finished time.Time
}

// Trace is one sandboxed run's raw binary trace stream, as the sandbox
// returned it.
type Trace struct {
	Track string // "scenario-backend", unique within a run
	Data  []byte
}

// Best is a client's best graded submission of one exercise.
type Best struct {
	Exercise string
	Score    int
	Max      int
	RunID    string
	At       time.Time // when that run was created
}

// RunStore keeps runs, their outcomes and their traces. Errors wrap
// [ErrNotFound], [ErrInvalid] or [ErrConflict] where one applies. It is safe
// for concurrent use.
type RunStore interface {
	// CreateRun stores r as queued and sets r.Status to match; its outcome
	// fields are not stored. ErrConflict if r.ID is taken.
	CreateRun(ctx context.Context, r *Run) error
	// StartRun marks a queued run running since at. A run left running by a
	// stopped server may be started again, which moves Started to at.
	StartRun(ctx context.Context, id string, at time.Time) error
	// FinishRun marks a running run done with out and stores its traces, in
	// one transaction: all of it is stored or none.
	FinishRun(ctx context.Context, id string, out Outcome, traces []Trace) error
	// InterruptRun marks a queued or running run interrupted at at, with
	// Verdict VerdictInterrupted, the reason kept in Reason, and no Result.
	InterruptRun(ctx context.Context, id, reason string, at time.Time) error

	// Run returns the run with id, everything included.
	Run(ctx context.Context, id string) (*Run, error)
	// RunStatus returns where the run with id is, and nothing else: what a
	// follower polls while the run is graded elsewhere.
	RunStatus(ctx context.Context, id string) (RunStatus, error)
	// Traces returns every trace of a run, ordered by track.
	Traces(ctx context.Context, id string) ([]Trace, error)
	// Trace returns the data of one track of a run.
	Trace(ctx context.Context, id, track string) ([]byte, error)
	// ClientRuns returns up to limit (<= 0: all) of a client's runs of an
	// exercise ("" : every exercise), newest first, without Code and Result.
	ClientRuns(ctx context.Context, client, exercise string, limit int) ([]*Run, error)
	// BestScores returns, per exercise, a client's best-scoring submission
	// that is done; of equal scores, the earliest.
	BestScores(ctx context.Context, client string) (map[string]Best, error)
	// Unfinished returns every queued or running run, oldest first, with
	// Code: what a restarted server must resume or interrupt.
	Unfinished(ctx context.Context) ([]*Run, error)
}

var runIDPattern = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$`)

// NewRunID returns a new run id: the time, then 32 random bits.
func NewRunID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%x", now.UTC().Format("20060102-150405"), b)
}

// ValidRunID reports whether id has the shape [NewRunID] makes: ids come
// from URLs, and anything else names no run.
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }
