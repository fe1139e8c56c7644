package readiness

import (
	"fmt"
	"strings"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/exercises"
)

var prediction = &exercises.Prediction{
	Question: "The paced scenario on level-triggered epoll: five 1600-byte packets arrive 10 ms apart, and your " +
		"readiness code reads through a 1 KiB buffer. How many times will epoll report your socket readable " +
		"before your handler has the whole message?",
	Form:   exercises.PredictNumber,
	Unit:   "wakeups",
	Actual: wakeups,
}

// wakeups counts, in the paced run on epoll, the times an epoll_wait
// reported the handler's socket readable before the handler answered, and
// says in its note what the other runs counted: the wakeups of the
// unpaced message and the RECV completions on io_uring.
func wakeups(runs []*exercises.Run) (exercises.Answer, bool) {
	var a exercises.Answer
	var found bool
	var others []string
	for _, r := range runs {
		if r.Trace == nil || r.TraceErr != nil {
			continue
		}
		v := newView(r)
		if v.fd < 0 {
			continue
		}
		switch {
		case r.Scenario.Name == "paced" && r.Backend == backend.Epoll:
			a = exercises.Num(float64(len(v.ready)))
			a.Note = fmt.Sprintf("epoll reported fd %d readable %s in %s, and the handler made %s of it", v.fd, count(len(v.ready), "time"), r.Where(), count(len(v.reads), "read"))
			found = true
		case r.Scenario.Name == "unpaced-edge" && r.Backend == backend.Epoll:
			others = append(others, fmt.Sprintf("%s in %s", count(len(v.ready), "time"), r.Where()))
		case r.Scenario.Name == "paced" && r.Backend == backend.Uring && len(v.recvSubmits) > 0:
			others = append(others, fmt.Sprintf("%s in %s", count(len(v.recvs), "RECV completion"), r.Where()))
		}
	}
	if found && len(others) > 0 {
		a.Note += "; " + strings.Join(others, "; ")
	}
	return a, found
}
