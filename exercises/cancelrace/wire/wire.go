// Package wire is what the cancel-race harness writes into the trace and
// its checks read: the marks, codes, values and parameters both sides use.
// It is a leaf, so that the grader's side builds on any platform.
package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// The harness's marks on the engine's loop (loop 0), tagged with the run's
// tag so that a handler cannot forge them. Arg0 is the trial's number,
// from 1, in each.
const (
	// MarkStart: the trial's read was started and Handle called. Op is the
	// read's op id, Res the trial's Kind.
	MarkStart = "cancelrace: start "
	// MarkWrote: the writer wrote the trial's bytes (Res: how many). It is
	// written from the writer's goroutine, at the moment the write returned.
	MarkWrote = "cancelrace: wrote "
	// MarkAsked: the harness asked for the cancel, from its canceller's
	// goroutine, just before it called the handler's cancel function.
	MarkAsked = "cancelrace: cancel requested "
	// MarkReport: the handler called report. Res is the bytes delivered, or
	// -errno; Fd is 1 when the call was made off the loop's thread.
	MarkReport = "cancelrace: report "
	// MarkAnswer: the handler answered the cancel. Res is 0 or -errno
	// (AnswerOther for an error that is no errno); Fd as for MarkReport.
	MarkAnswer = "cancelrace: answer "
	// MarkRelease: the handler released the buffer. Fd as for MarkReport.
	MarkRelease = "cancelrace: release "
	// MarkEnd: the trial is over. Op is the read's op id, Res its Outcome,
	// and the name says what happened, for the timeline.
	MarkEnd = "cancelrace: trial "
	// MarkProblem: a check failed this trial. The name is MarkProblem, the
	// check's id, ": " and the sentence that says why. Fd is the Moment it
	// is about and Res that moment's index among the trial's marks of its
	// kind (the second report is index 1).
	MarkProblem = "cancelrace: problem "
)

// AnswerOther is MarkAnswer's Res for an answer that is not an errno.
const AnswerOther = -1 << 20

// Kind is what a trial arranges between the writer and the canceller.
type Kind int

// The trials' kinds.
const (
	// Race: the loop is idle; the bytes come after a random delay and the
	// cancel around then, sometimes before, sometimes after.
	Race Kind = iota + 1
	// Early: the cancel is asked for at once, and the bytes are held back
	// until the read has ended (or a second has passed): a cancel that
	// reaches the kernel wins.
	Early
	// Busy: the bytes, then the cancel, arrive while the loop is busy in
	// a callback of the harness's: the read completes first.
	Busy
	// Late: the cancel is asked for after the read was reported.
	Late
	// Warm: a file read with no cancel, which starts the ring's io-wq
	// worker and fills the page cache before the trials that follow.
	Warm
	// File: a file read that an io-wq worker runs, whose cancel is asked
	// for as it starts and reaches the kernel while the worker copies.
	File
)

var kindNames = map[Kind]string{Race: "race", Early: "early cancel", Busy: "busy loop", Late: "late cancel",
	Warm: "warm-up", File: "file"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "kind " + strconv.Itoa(int(k))
}

// Racy reports whether k's trials race the cancel against the read at a
// random moment: the trials the prediction's histogram counts.
func (k Kind) Racy() bool { return k == Race || k == File }

// Outcome is how a trial's read ended: MarkEnd's Res.
type Outcome int

// The outcomes.
const (
	Completed Outcome = iota // with bytes
	Cancelled                // with ECANCELED
	Failed                   // with another error
	Pending                  // never, within the trial
)

// Moment is what a MarkProblem points at: MarkProblem's Fd.
type Moment int

// The moments.
const (
	AtEnd        Moment = iota // the trial's MarkEnd
	AtReport                   // a MarkReport
	AtRelease                  // a MarkRelease
	AtAnswer                   // a MarkAnswer
	AtCompletion               // the read's own completion event
)

// ProblemName is the name of a MarkProblem for check id.
func ProblemName(id, sentence string) string { return MarkProblem + id + ": " + sentence }

// ParseProblem splits a MarkProblem's name into the check's id and the
// sentence.
func ParseProblem(name string) (id, sentence string, ok bool) {
	rest, ok := strings.CutPrefix(name, MarkProblem)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ": ")
}

// The harness's measurements, reported with kit.Env.Value.
const (
	ValueTrials    = "trials"     // trials run
	ValueReports   = "reports"    // report calls
	ValueReleases  = "releases"   // release calls
	ValueAnswers   = "answers"    // answer calls
	ValueCancelFns = "cancel-fns" // trials whose handler registered a cancel function
	ValueAsked     = "asked"      // cancels asked for
	ValueFileRead  = "file-read-ns"
	ValueSeed      = "seed"
)

// Scenario parameters: how many trials of each kind, and the file's size.
const (
	ParamSource = "source" // "socket" or "file"
	ParamSize   = "size"   // the file's bytes
)

// ParamCount is the parameter that says how many trials of kind k a
// scenario runs.
func ParamCount(k Kind) string { return "n-" + strings.ReplaceAll(k.String(), " ", "-") }

// Summary is the harness's answer once every trial is over.
func Summary(trials, problems int) string {
	if problems == 0 {
		return fmt.Sprintf("%d trials, no problem", trials)
	}
	return fmt.Sprintf("%d trials, %d problem(s)", trials, problems)
}

// Linux's numbers for the errors of a cancel race, which traces carry as
// -errno whatever the platform that reads them.
const (
	ENOENT    = 2
	EALREADY  = 114
	ECANCELED = 125
)
