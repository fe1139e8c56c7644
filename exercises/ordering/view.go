package ordering

import (
	"strings"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/ordering/wire"
)

// engineLoop is the loop id of the engine's own events, and of the
// harness's marks, in a run's trace.
const engineLoop = 0

// pairView is one of the handler's pairs as the trace shows it: the
// harness's marks, and the handler's two writes on its file between this
// pair's start and the next's.
type pairView struct {
	n       int
	start   *trace.Event // the harness's MarkStart
	done    *trace.Event // MarkDone; nil if done never came
	outcome wire.Outcome // the pair's final bytes (at done, or later if they changed)
	bytes   string       // those bytes, as the harness's mark shows them
	late    *trace.Event // MarkLate, if the bytes changed after done
	again   *trace.Event // the first MarkAgain

	first, second         *trace.Event // the writes' submit events: 16 and 8 bytes on the handler's file
	firstDone, secondDone *trace.Event // their completions
}

// handlerFD returns the descriptor of the handler's file, or -1.
func handlerFD(r *exercises.Run) int {
	if v, ok := r.Values[wire.ValueFD]; ok {
		return int(v)
	}
	return -1
}

// pairs reads r's pairs from the harness's marks and the engine's events.
func pairs(r *exercises.Run) []*pairView {
	if r.Trace == nil || r.Tag == 0 {
		return nil
	}
	fd := handlerFD(r)
	var ps []*pairView
	var cur *pairView
	byOp := map[uint64]*pairView{}
	evs := r.Trace.Events
	for i := range evs {
		e := &evs[i]
		if e.Loop != engineLoop {
			continue
		}
		switch e.Kind {
		case trace.KindMark:
			if e.Arg1 != r.Tag {
				continue
			}
			name := r.Trace.Name(e.Name)
			if strings.HasPrefix(name, wire.MarkStart) {
				if int(e.Arg0) == len(ps)+1 {
					cur = &pairView{n: int(e.Arg0), start: e}
					ps = append(ps, cur)
				}
				continue
			}
			p := get(ps, e.Arg0)
			if p == nil {
				continue
			}
			switch {
			case strings.HasPrefix(name, wire.MarkDone):
				if p.done == nil {
					p.done, p.outcome, p.bytes = e, wire.Outcome(e.Res), markedBytes(name)
				}
			case strings.HasPrefix(name, wire.MarkLate):
				p.late, p.outcome, p.bytes = e, wire.Outcome(e.Res), markedBytes(name)
			case strings.HasPrefix(name, wire.MarkAgain):
				if p.again == nil {
					p.again = e
				}
			}
		case trace.KindSubmit:
			if cur == nil || int(e.Fd) != fd || r.Trace.Name(e.Name) != "WRITE" {
				continue
			}
			switch {
			case e.Arg1 == int64(len(wire.First)) && cur.first == nil:
				cur.first = e
				byOp[e.Op] = cur
			case e.Arg1 == int64(len(wire.Second)) && cur.second == nil:
				cur.second = e
				byOp[e.Op] = cur
			}
		case trace.KindComplete:
			p := byOp[e.Op]
			if p == nil || int(e.Fd) != fd {
				continue
			}
			switch {
			case p.first != nil && e.Op == p.first.Op && p.firstDone == nil:
				p.firstDone = e
			case p.second != nil && e.Op == p.second.Op && p.secondDone == nil:
				p.secondDone = e
			}
		}
	}
	return ps
}

// markedBytes returns the bytes a MarkDone or MarkLate shows: the word
// after the pair's number (after "now " in a MarkLate).
func markedBytes(name string) string {
	name = strings.TrimPrefix(strings.TrimPrefix(name, wire.MarkDone), wire.MarkLate)
	_, rest, _ := strings.Cut(name, ": ")
	rest = strings.TrimPrefix(rest, "now ")
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func get(ps []*pairView, n int64) *pairView {
	if n < 1 || int(n) > len(ps) {
		return nil
	}
	return ps[n-1]
}

// order is how, if at all, a pair's second write was ordered after its
// first.
type order int

const (
	unordered    order = iota
	byCompletion       // submitted once the first had completed
	byLink             // the first links to it, in one batch
	byDrain            // drained, submitted after the first
)

// submits are a run's submit events on loop 0, in sequence, and where
// each one is among them.
type submits struct {
	list []*trace.Event
	at   map[*trace.Event]int
}

func submitsOf(r *exercises.Run) *submits {
	s := &submits{at: map[*trace.Event]int{}}
	if r.Trace == nil {
		return s
	}
	for i := range r.Trace.Events {
		if e := &r.Trace.Events[i]; e.Loop == engineLoop && e.Kind == trace.KindSubmit {
			s.at[e] = len(s.list)
			s.list = append(s.list, e)
		}
	}
	return s
}

// next returns the submit that follows e, or nil.
func (s *submits) next(e *trace.Event) *trace.Event {
	if i, ok := s.at[e]; ok && i+1 < len(s.list) {
		return s.list[i+1]
	}
	return nil
}

// ordering says how p's second write was ordered after its first. A link
// chain runs from an SQE with IOSQE_IO_LINK (or HARDLINK) to the next one
// submitted in the same batch (one flush of the loop, which stamps its
// submits with one time), as the kernel ends a chain at the end of a
// submission.
func ordering(subs *submits, p *pairView) order {
	f, s := p.first, p.second
	switch {
	case f == nil || s == nil:
		return unordered
	case p.firstDone != nil && p.firstDone.Seq < s.Seq:
		return byCompletion
	case s.Seq < f.Seq:
		return unordered
	case s.Arg0&wire.FlagDrain != 0:
		return byDrain
	}
	cur := f
	for cur.Arg0&(wire.FlagLink|wire.FlagHardlink) != 0 {
		next := subs.next(cur)
		if next == nil || next.Time != cur.Time {
			return unordered
		}
		if next == s {
			return byLink
		}
		cur = next
	}
	return unordered
}

// labCounts returns the lab's own pairs of case c by outcome, and their
// number; ok is false when the run has none.
func labCounts(r *exercises.Run, c wire.Case) (n map[wire.Outcome]int, total int, ok bool) {
	n = map[wire.Outcome]int{}
	for _, o := range wire.Outcomes {
		v, found := r.Values[wire.ValueLab(c, o)]
		if !found {
			return nil, 0, false
		}
		n[o] = int(v)
		total += int(v)
	}
	return n, total, total > 0
}
