package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/asynclab/asynclab/labs"
)

// feedbackHidden reports whether the request may see only whether run
// passed, and until when: a submission for an assignment that shows only
// pass or fail before the due time, seen by its student (or through their
// eyes) before their due time. The course's staff see everything.
func (s *Server) feedbackHidden(r *http.Request, run *labs.Run) (bool, time.Time) {
	u := viewer(r)
	if run.Assignment == "" || u == nil || u.ID != run.Client {
		return false, time.Time{}
	}
	st, err := s.assignmentStanding(r, run.Assignment)
	if err != nil || st.place.staff || st.a.Feedback != labs.FeedbackPassFail {
		return false, time.Time{}
	}
	return s.cfg.Now().Before(st.due), st.due
}

// passFailOnly rewrites a run's result message to say only whether the
// submission passed, and when the rest will show. A build's problems stay:
// they are about the code, not the grading.
func passFailOnly(until string) func([]byte) []byte {
	return func(msg []byte) []byte {
		var m map[string]json.RawMessage
		if json.Unmarshal(msg, &m) != nil || string(m["type"]) != `"result"` {
			return msg
		}
		var full struct {
			ID       string          `json:"id"`
			Exercise string          `json:"exercise"`
			Verdict  string          `json:"verdict"`
			Problems json.RawMessage `json:"problems,omitempty"`
		}
		if json.Unmarshal(m["result"], &full) != nil {
			return msg
		}
		verdict := full.Verdict
		if verdict != "passed" && verdict != "compile-error" {
			verdict = "failed"
		}
		brief := map[string]any{"id": full.ID, "exercise": full.Exercise, "verdict": verdict, "checks": []any{}, "runs": []any{},
			"message": "Until " + until + ", this assignment shows only whether a submission passes; its checks show after that."}
		if len(full.Problems) > 0 {
			brief["problems"] = full.Problems
		}
		b, err := json.Marshal(brief)
		if err != nil {
			return msg
		}
		m["result"] = b
		out, err := json.Marshal(m)
		if err != nil {
			return msg
		}
		return out
	}
}
