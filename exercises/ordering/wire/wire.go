// Package wire is what the ordering harness writes into the trace and its
// checks read: the bytes of the two writes, the marks, the outcomes, the
// values and the scenario parameters. It is a leaf, so that the grader's
// side builds on any platform.
package wire

import (
	"bytes"
	"strings"
)

// The two writes of a pair, both at the pair's offset: the first is longer,
// so that the file shows whether each of them landed and in which order.
// After the first then the second it holds Want; after the second then the
// first, the first's bytes alone.
var (
	First  = bytes.Repeat([]byte{'A'}, 16)
	Second = bytes.Repeat([]byte{'B'}, 8)
	Want   = append(bytes.Repeat([]byte{'B'}, 8), bytes.Repeat([]byte{'A'}, 8)...)
)

// Slot is the distance between two pairs' offsets in a file: each pair has
// its own 16 bytes, so that every pair's final bytes can be read at the end.
const Slot = 32

// Outcome is what a pair's 16 bytes show.
type Outcome int

// The outcomes.
const (
	SecondWins Outcome = iota + 1 // Want: the second write landed last
	FirstWins                     // First: the first landed last and overwrote the second
	Torn                          // a mix of the two that neither order gives
	Missing                       // a write never landed (zeros left)
)

var outcomeNames = map[Outcome][2]string{
	SecondWins: {"second", "the second write's bytes"},
	FirstWins:  {"first", "the first write's bytes"},
	Torn:       {"torn", "a torn mix"},
	Missing:    {"missing", "a write missing"},
}

// Outcomes are the outcomes, in the order a histogram shows them.
var Outcomes = []Outcome{SecondWins, FirstWins, Torn, Missing}

func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s[1]
	}
	return "no outcome"
}

// Short is o's one-word name: "second", "first", "torn", "missing".
func (o Outcome) Short() string { return outcomeNames[o][0] }

// Classify says what the 16 bytes b of a pair show.
func Classify(b []byte) Outcome {
	switch {
	case bytes.Equal(b, Want):
		return SecondWins
	case bytes.Equal(b, First):
		return FirstWins
	case bytes.IndexByte(b, 0) >= 0:
		return Missing
	}
	return Torn
}

// Show writes b for a message: "BBBBBBBBAAAAAAAA", with "." for a zero.
func Show(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r == 0 {
			return '.'
		}
		return r
	}, string(b))
}

// The harness's marks on the engine's loop (loop 0), tagged with the run's
// tag so that a handler cannot forge them. Arg0 is the pair's number,
// from 1, and Fd the file's descriptor.
const (
	// MarkStart: the harness is about to call the handler for a pair. Arg1
	// is the tag; Res the pair's offset.
	MarkStart = "ordering: pair "
	// MarkDone: the handler called done. Res is the Outcome the harness
	// read from the file at that moment.
	MarkDone = "ordering: done "
	// MarkLate: when the run ended, the pair's bytes were no longer what
	// they were at done: a write landed after it. Res is the final Outcome.
	MarkLate = "ordering: changed after done "
	// MarkAgain: the handler called done again for a pair. Res is how many
	// times so far.
	MarkAgain = "ordering: done again "
	// MarkLab: one of the lab's own pairs (Res: its Outcome), on the lab's
	// file. The name says the case.
	MarkLab = "lab pair "
	// MarkBase: one of the harness's one-at-a-time pairs in the busy
	// scenario finished; Res is its time in ns.
	MarkBase = "baseline pair "
)

// Case is one of the ways the lab issues its own unordered pairs.
type Case int

// The lab's cases.
const (
	Plain      Case = iota + 1 // both writes plain, one batch
	FirstAsync                 // the first with Async, one batch
	BothAsync                  // both with Async, one batch
)

// Cases are the lab's cases, in the order the harness runs them.
var Cases = []Case{Plain, FirstAsync, BothAsync}

var caseNames = map[Case]string{Plain: "plain", FirstAsync: "first async", BothAsync: "both async"}

func (c Case) String() string { return caseNames[c] }

// ValueLab names the value that counts the lab's pairs of case c that
// ended with outcome o.
func ValueLab(c Case, o Outcome) string {
	return "lab-" + strings.ReplaceAll(c.String(), " ", "-") + "-" + o.Short()
}

// The harness's values.
const (
	ValueFD       = "fd"          // the handler's file
	ValueLabFD    = "lab-fd"      // the lab's own file
	ValuePairs    = "pairs"       // pairs the handler was given
	ValueDone     = "pairs-done"  // pairs the handler called done for
	ValueHandler  = "handler-ns"  // busy: the median time of the handler's pairs
	ValueBaseline = "baseline-ns" // busy: the median time of the harness's one-at-a-time pairs
	ValueBusyRead = "other-reads" // busy: reads of the other stream that completed
	ValueStuck    = "stuck-pair"  // the pair whose done never came, if one did not
	ValuePatience = "patience-ns" // how long the harness waited for it
)

// Scenario parameters.
const (
	ParamPairs    = "pairs"    // the handler's pairs
	ParamLab      = "lab"      // race: the lab's pairs of each case
	ParamBaseline = "baseline" // busy: the harness's one-at-a-time pairs
	ParamOther    = "other"    // busy: the period of the other stream's bytes ("5ms")
)

// IOSQE flags as a submit event's Arg0 carries them, on both backends.
const (
	FlagDrain    = 1 << 1
	FlagLink     = 1 << 2
	FlagHardlink = 1 << 3
	FlagAsync    = 1 << 4
)
