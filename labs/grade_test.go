package labs_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/labs"
)

func TestGradeOf(t *testing.T) {
	due := time.Date(2027, 3, 1, 23, 59, 0, 0, time.UTC)
	a := &labs.Assignment{
		Items: []labs.AssignmentItem{{Exercise: "connect", Points: 10}, {Exercise: "batching", Points: 20}},
		Opens: due.Add(-7 * 24 * time.Hour),
		Due:   due,
		Late:  []labs.LateWindow{{Within: 24 * time.Hour, Credit: 80}, {Within: 72 * time.Hour, Credit: 50}},
	}
	sub := func(id, ex string, score, max int, at time.Duration) *labs.Run {
		return &labs.Run{ID: id, Exercise: ex, Mode: labs.ModeSubmit, Status: labs.StatusDone, Score: score, Max: max, Created: due.Add(at)}
	}
	regrade := func(id, of string, score, max int, at time.Duration) *labs.Run {
		r := sub(id, "connect", score, max, at)
		r.Regrades = of
		return r
	}
	tests := []struct {
		name      string
		scoring   labs.Scoring
		due       time.Time
		runs      []*labs.Run
		overrides []labs.Override
		want      []labs.ItemGrade
		earned    float64
	}{
		{"nothing submitted", labs.ScoreBest, due, nil, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10}, {Exercise: "batching", Points: 20}}, 0},
		{"on time, best of two", labs.ScoreBest, due, []*labs.Run{sub("r1", "connect", 5, 10, -time.Hour), sub("r2", "connect", 8, 10, -time.Minute), sub("r3", "connect", 6, 10, 0)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 8, Run: "r2", Credit: 100, Submissions: 3}, {Exercise: "batching", Points: 20}}, 8},
		{"last, not best", labs.ScoreLast, due, []*labs.Run{sub("r1", "connect", 10, 10, -time.Hour), sub("r2", "connect", 2, 10, -time.Minute)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 2, Run: "r2", Credit: 100, Submissions: 2}, {Exercise: "batching", Points: 20}}, 2},
		{"late windows", labs.ScoreBest, due, []*labs.Run{sub("r1", "connect", 10, 10, time.Hour), sub("r2", "batching", 10, 10, 48*time.Hour)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 8, Run: "r1", Credit: 80, Submissions: 1}, {Exercise: "batching", Points: 20, Earned: 10, Run: "r2", Credit: 50, Submissions: 1}}, 18},
		{"a late full score loses to an on-time better one", labs.ScoreBest, due, []*labs.Run{sub("r1", "connect", 9, 10, -time.Hour), sub("r2", "connect", 10, 10, time.Hour)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 9, Run: "r1", Credit: 100, Submissions: 2}, {Exercise: "batching", Points: 20}}, 9},
		{"after the last window, and before opening, nothing", labs.ScoreBest, due, []*labs.Run{sub("r1", "connect", 10, 10, 73*time.Hour), sub("r0", "connect", 10, 10, -8*24*time.Hour)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Submissions: 2}, {Exercise: "batching", Points: 20}}, 0},
		{"an extension moves the windows", labs.ScoreBest, due.Add(48 * time.Hour), []*labs.Run{sub("r1", "connect", 10, 10, 47*time.Hour), sub("r2", "batching", 10, 10, 60*time.Hour)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 10, Run: "r1", Credit: 100, Submissions: 1}, {Exercise: "batching", Points: 20, Earned: 16, Run: "r2", Credit: 80, Submissions: 1}}, 26},
		{"interrupted, practice and other exercises do not count", labs.ScoreBest, due, []*labs.Run{
			{ID: "i", Exercise: "connect", Mode: labs.ModeSubmit, Status: labs.StatusInterrupted, Created: due},
			{ID: "p", Exercise: "connect", Mode: labs.ModeRun, Status: labs.StatusDone, Score: 10, Max: 10, Created: due},
			sub("o", "deadlock", 10, 10, 0)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10}, {Exercise: "batching", Points: 20}}, 0},
		{"in line counts towards the cap, earns nothing yet", labs.ScoreBest, due, []*labs.Run{{ID: "q", Exercise: "connect", Mode: labs.ModeSubmit, Status: labs.StatusQueued, Created: due}}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Submissions: 1}, {Exercise: "batching", Points: 20}}, 0},
		{"a regrade stands in for its submission, keeping its lateness", labs.ScoreBest, due, []*labs.Run{
			sub("r1", "connect", 4, 10, time.Hour), sub("r2", "connect", 6, 10, -time.Hour),
			regrade("g1", "r1", 10, 10, 100*time.Hour), regrade("g2", "r2", 7, 10, 100*time.Hour)}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 8, Run: "g1", Credit: 80, Submissions: 2}, {Exercise: "batching", Points: 20}}, 8},
		{"the latest finished regrade counts; one in line does not yet", labs.ScoreBest, due, []*labs.Run{
			sub("r1", "connect", 4, 10, 0), regrade("g1", "r1", 9, 10, 100*time.Hour), regrade("g2", "r1", 5, 10, 101*time.Hour),
			{ID: "g3", Exercise: "connect", Mode: labs.ModeSubmit, Regrades: "r1", Status: labs.StatusQueued, Created: due.Add(102 * time.Hour)}}, nil,
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 5, Run: "g2", Credit: 100, Submissions: 1}, {Exercise: "batching", Points: 20}}, 5},
		{"an override replaces what the submissions earned", labs.ScoreBest, due, []*labs.Run{sub("r1", "connect", 2, 10, 0)},
			[]labs.Override{{Exercise: "connect", Points: 9.5, Comment: "the grader missed a case"}},
			[]labs.ItemGrade{{Exercise: "connect", Points: 10, Earned: 9.5, Run: "r1", Credit: 100, Submissions: 1,
				Override: &labs.Override{Exercise: "connect", Points: 9.5, Comment: "the grader missed a case"}}, {Exercise: "batching", Points: 20}}, 9.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := *a
			a.Scoring = tt.scoring
			g := labs.GradeOf(&a, tt.due, tt.runs, tt.overrides)
			if diff := cmp.Diff(tt.want, g.Items); diff != "" {
				t.Errorf("GradeOf items (-want +got):\n%s", diff)
			}
			if g.Earned != tt.earned || g.Points != 30 {
				t.Errorf("GradeOf = %v of %d, want %v of 30", g.Earned, g.Points, tt.earned)
			}
		})
	}
}
