// Package labs is the lab's domain: the runs students make, their graded
// results and their raw traces, and the Store that keeps them. It depends on
// no database; implementations live in subpackages named after what they
// wrap, such as labs/sqlite.
//
// The classroom (courses, people, assignments) will join as more types and
// more interfaces embedded in [Store], one file per concept, as runs are in
// run.go.
package labs

import "errors"

// The error kinds a [Store] returns, wrapped with the operation that failed.
// Test for them with errors.Is; web maps them to status codes.
var (
	// ErrNotFound means the run or trace asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the caller passed a value the store refuses, such
	// as an empty id, an unknown mode or a zero time.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the request clashes with what is stored: the id is
	// taken, or the run is not in a status the change starts from.
	ErrConflict = errors.New("conflict")
)

// Store is everything the lab keeps. Implementations are safe for
// concurrent use; consumers should declare the smaller interface they need.
type Store interface {
	RunStore
	AccountStore
	CourseStore
	RegradeStore
	AssignmentStore
	// Close releases the store. No method may be called after it.
	Close() error
}
