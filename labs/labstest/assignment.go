package labstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/labs"
)

// AssignmentStoreTests runs the contract of [labs.AssignmentStore] against
// stores from open, which returns a new, empty store.
func AssignmentStoreTests(t *testing.T, open func(t *testing.T) labs.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, labs.Store)
	}{
		{"RoundTrip", testAssignmentRoundTrip},
		{"Invalid", testAssignmentInvalid},
		{"Extensions", testExtensions},
		{"Submissions", testSubmissions},
		{"OverridesAndAudit", testOverridesAndAudit},
		{"Regrades", testRegrades},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func newAssignment(id, course string, due int) *labs.Assignment {
	return &labs.Assignment{
		ID: id, Course: course, Title: "Week " + id,
		Items:   []labs.AssignmentItem{{Exercise: "connect", Points: 10}, {Exercise: "batching", Points: 5}},
		Opens:   at(0),
		Due:     at(due),
		Late:    []labs.LateWindow{{Within: time.Hour, Credit: 80}, {Within: 24 * time.Hour, Credit: 50}},
		Scoring: labs.ScoreBest, MaxSubmissions: 3, Feedback: labs.FeedbackAll, Created: at(0),
	}
}

func courseWithPeople(t *testing.T, s labs.Store) {
	people(t, s)
	mustCreateCourse(t, s, newCourse("c-os", "OS", 0), "u-ada")
}

func testAssignmentRoundTrip(t *testing.T, s labs.Store) {
	ctx := context.Background()
	courseWithPeople(t, s)
	a1, a2 := newAssignment("a-1", "c-os", 200), newAssignment("a-2", "c-os", 100)
	a2.Late, a2.Scoring, a2.MaxSubmissions, a2.Feedback = nil, labs.ScoreLast, 0, labs.FeedbackPassFail
	for _, a := range []*labs.Assignment{a1, a2} {
		if err := s.CreateAssignment(ctx, a); err != nil {
			t.Fatalf("CreateAssignment(%s) = %v", a.ID, err)
		}
	}
	got, err := s.Assignment(ctx, "a-1")
	if diff := cmp.Diff(a1, got); err != nil || diff != "" {
		t.Errorf("Assignment(a-1) = %v (-want +got):\n%s", err, diff)
	}
	list, err := s.Assignments(ctx, "c-os")
	if err != nil || len(list) != 2 || list[0].ID != "a-2" || list[1].ID != "a-1" {
		t.Errorf("Assignments(c-os) = %v, %v, want a-2 then a-1 (by due time)", list, err)
	}
	if diff := cmp.Diff(a2, list[0]); diff != "" {
		t.Errorf("Assignments(c-os)[0] (-want +got):\n%s", diff)
	}
	if err := s.CreateAssignment(ctx, newAssignment("a-1", "c-os", 5)); !errors.Is(err, labs.ErrConflict) {
		t.Errorf("CreateAssignment(a-1 again) = %v, want ErrConflict", err)
	}
	if err := s.CreateAssignment(ctx, newAssignment("a-9", "c-missing", 5)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("CreateAssignment(in no course) = %v, want ErrNotFound", err)
	}
	up := *a1
	up.Title, up.Items, up.Due, up.MaxSubmissions, up.Feedback = "Week 1, corrected", []labs.AssignmentItem{{Exercise: "deadlock", Points: 7}}, at(300), 0, labs.FeedbackPassFail
	if err := s.UpdateAssignment(ctx, &up); err != nil {
		t.Fatalf("UpdateAssignment = %v", err)
	}
	if got, _ := s.Assignment(ctx, "a-1"); !cmp.Equal(&up, got) {
		t.Errorf("Assignment(a-1) after UpdateAssignment = %+v, want %+v", got, up)
	}
	missing := *a1
	missing.ID = "a-missing"
	if err := s.UpdateAssignment(ctx, &missing); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("UpdateAssignment(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Assignment(ctx, "a-missing"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Assignment(missing) = %v, want ErrNotFound", err)
	}
}

func testAssignmentInvalid(t *testing.T, s labs.Store) {
	courseWithPeople(t, s)
	for name, edit := range map[string]func(*labs.Assignment){
		"no title":             func(a *labs.Assignment) { a.Title = "" },
		"no exercise":          func(a *labs.Assignment) { a.Items = nil },
		"due before it opens":  func(a *labs.Assignment) { a.Due = at(-1) },
		"unknown scoring":      func(a *labs.Assignment) { a.Scoring = "average" },
		"windows out of order": func(a *labs.Assignment) { a.Late[0], a.Late[1] = a.Late[1], a.Late[0] },
		"credit over 100":      func(a *labs.Assignment) { a.Late[0].Credit = 120 },
		"negative cap":         func(a *labs.Assignment) { a.MaxSubmissions = -1 },
		"unknown feedback":     func(a *labs.Assignment) { a.Feedback = "scores" },
	} {
		a := newAssignment("a-new", "c-os", 10)
		edit(a)
		if err := s.CreateAssignment(context.Background(), a); !errors.Is(err, labs.ErrInvalid) {
			t.Errorf("CreateAssignment(%s) = %v, want ErrInvalid", name, err)
		}
	}
}

func testExtensions(t *testing.T, s labs.Store) {
	ctx := context.Background()
	courseWithPeople(t, s)
	if err := s.CreateAssignment(ctx, newAssignment("a-1", "c-os", 100)); err != nil {
		t.Fatal(err)
	}
	for _, e := range []labs.Extension{
		{Assignment: "a-1", User: "u-carol", Due: at(150)},
		{Assignment: "a-1", User: "u-bob", Due: at(200)},
		{Assignment: "a-1", User: "u-bob", Due: at(250)}, // replaces the one before
	} {
		if err := s.SetExtension(ctx, e); err != nil {
			t.Fatalf("SetExtension(%+v) = %v", e, err)
		}
	}
	got, err := s.Extensions(ctx, "a-1")
	want := []labs.Extension{{Assignment: "a-1", User: "u-bob", Due: at(250)}, {Assignment: "a-1", User: "u-carol", Due: at(150)}}
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("Extensions(a-1) = %v (-want +got):\n%s", err, diff)
	}
	if err := s.SetExtension(ctx, labs.Extension{Assignment: "a-missing", User: "u-bob", Due: at(1)}); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("SetExtension(missing assignment) = %v, want ErrNotFound", err)
	}
	if err := s.SetExtension(ctx, labs.Extension{Assignment: "a-1", User: "u-missing", Due: at(1)}); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("SetExtension(missing person) = %v, want ErrNotFound", err)
	}
}

func testSubmissions(t *testing.T, s labs.Store) {
	ctx := context.Background()
	courseWithPeople(t, s)
	if err := s.CreateAssignment(ctx, newAssignment("a-1", "c-os", 100)); err != nil {
		t.Fatal(err)
	}
	mk := func(id, client, assignment string, mode labs.RunMode, n int) {
		r := newRun(id, client, "connect", mode, n)
		r.Assignment = assignment
		r.Prediction = `{"choice":"EINPROGRESS"}`
		mustCreate(t, s, r)
	}
	mk("r3", "u-bob", "a-1", labs.ModeSubmit, 3)
	mk("r1", "u-bob", "a-1", labs.ModeSubmit, 1)
	mk("r2", "u-carol", "a-1", labs.ModeSubmit, 2)
	mk("r4", "u-bob", "", labs.ModeSubmit, 4)    // not for the assignment
	mk("r5", "u-bob", "a-1", labs.ModeRun, 5)    // practice
	mk("r6", "u-bob", "a-2", labs.ModeSubmit, 6) // another assignment
	ids := func(runs []*labs.Run) []string {
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	all, err := s.Submissions(ctx, "a-1", "")
	if err != nil || !cmp.Equal(ids(all), []string{"r1", "r2", "r3"}) {
		t.Errorf("Submissions(a-1) = %v, %v, want r1 r2 r3", ids(all), err)
	}
	if all[0].Assignment != "a-1" || all[0].Code != "" || all[0].Prediction != `{"choice":"EINPROGRESS"}` {
		t.Errorf("Submissions(a-1)[0] = %+v, want the assignment, the prediction and no code", all[0])
	}
	bob, err := s.Submissions(ctx, "a-1", "u-bob")
	if err != nil || !cmp.Equal(ids(bob), []string{"r1", "r3"}) {
		t.Errorf("Submissions(a-1, bob) = %v, %v, want r1 r3", ids(bob), err)
	}
	if got := mustRun(t, s, "r6"); got.Assignment != "a-2" {
		t.Errorf("Run(r6).Assignment = %q, want a-2", got.Assignment)
	}
	if _, err := s.Submissions(ctx, "", ""); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("Submissions(no assignment) = %v, want ErrInvalid", err)
	}
}

func testOverridesAndAudit(t *testing.T, s labs.Store) {
	ctx := context.Background()
	courseWithPeople(t, s)
	if err := s.CreateAssignment(ctx, newAssignment("a-1", "c-os", 100)); err != nil {
		t.Fatal(err)
	}
	first := labs.Override{Assignment: "a-1", User: "u-bob", Exercise: "connect", Points: 7.5, Comment: "partial credit", By: "u-ada", At: at(1)}
	second := first
	second.Points, second.Comment, second.At = 9.25, "regraded by hand", at(2)
	carol := labs.Override{Assignment: "a-1", User: "u-carol", Exercise: "batching", Points: 0, Comment: "copied", By: "u-ada", At: at(3)}
	for i, o := range []labs.Override{first, second, carol} {
		if err := s.SetOverride(ctx, o, fmt.Sprint("change ", i)); err != nil {
			t.Fatalf("SetOverride(%+v) = %v", o, err)
		}
	}
	got, err := s.Overrides(ctx, "a-1")
	if diff := cmp.Diff([]labs.Override{second, carol}, got); err != nil || diff != "" {
		t.Errorf("Overrides(a-1) = %v (-want +got):\n%s", err, diff)
	}
	if err := s.Audit(ctx, labs.AuditEntry{At: at(4), By: "u-ada", Subject: "a-1", Action: "extension", Detail: "change 3"}); err != nil {
		t.Fatalf("Audit = %v", err)
	}
	log, err := s.AuditLog(ctx, "a-1")
	if err != nil {
		t.Fatalf("AuditLog = %v", err)
	}
	var details []string
	for _, e := range log {
		details = append(details, e.Action+": "+e.Detail)
	}
	want := []string{"override: change 0", "override: change 1", "override: change 2", "extension: change 3"}
	if !cmp.Equal(details, want) || !log[3].At.Equal(at(4)) || log[0].By != "u-ada" {
		t.Errorf("AuditLog(a-1) = %v, want %v in order", details, want)
	}
	for name, tt := range map[string]struct {
		o    labs.Override
		want error
	}{
		"unknown assignment": {labs.Override{Assignment: "a-x", User: "u-bob", Exercise: "connect", By: "u-ada", At: at(1)}, labs.ErrNotFound},
		"unknown person":     {labs.Override{Assignment: "a-1", User: "u-x", Exercise: "connect", By: "u-ada", At: at(1)}, labs.ErrNotFound},
		"negative points":    {labs.Override{Assignment: "a-1", User: "u-bob", Exercise: "connect", Points: -1, By: "u-ada", At: at(1)}, labs.ErrInvalid},
		"nobody set it":      {labs.Override{Assignment: "a-1", User: "u-bob", Exercise: "connect", At: at(1)}, labs.ErrInvalid},
	} {
		if err := s.SetOverride(ctx, tt.o, "x"); !errors.Is(err, tt.want) {
			t.Errorf("SetOverride(%s) = %v, want %v", name, err, tt.want)
		}
	}
	// A refused override leaves no audit entry.
	if log, _ := s.AuditLog(ctx, "a-1"); len(log) != 4 {
		t.Errorf("AuditLog(a-1) after refused overrides has %d entries, want 4", len(log))
	}
}

func testRegrades(t *testing.T, s labs.Store) {
	ctx := context.Background()
	courseWithPeople(t, s)
	if err := s.CreateAssignment(ctx, newAssignment("a-1", "c-os", 100)); err != nil {
		t.Fatal(err)
	}
	sub := newRun("r1", "u-bob", "connect", labs.ModeSubmit, 1)
	sub.Assignment = "a-1"
	mustCreate(t, s, sub)
	again := newRun("g1", "u-bob", "connect", labs.ModeSubmit, 2)
	again.Assignment, again.Regrades = "a-1", "r1"
	mustCreate(t, s, again)
	if got := mustRun(t, s, "g1"); got.Regrades != "r1" {
		t.Errorf("Run(g1).Regrades = %q, want r1", got.Regrades)
	}
	subs, err := s.Submissions(ctx, "a-1", "u-bob")
	if err != nil || len(subs) != 2 || subs[1].Regrades != "r1" {
		t.Errorf("Submissions(a-1, bob) = %v, %v; want r1 and its regrade g1, which names it", subs, err)
	}
	practice := newRun("p1", "u-bob", "connect", labs.ModeRun, 3)
	practice.Regrades = "r1"
	if err := s.CreateRun(ctx, practice); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("CreateRun(a practice run that regrades) = %v, want ErrInvalid", err)
	}

	first := &labs.Regrade{ID: "rg-1", Assignment: "a-1", Scope: "every submission", By: "u-ada", At: at(5),
		Items:  []labs.RegradeItem{{Submission: "r1", Run: "g1", User: "u-bob", Exercise: "connect", BeforeScore: 4, BeforeMax: 10}},
		Before: map[string]float64{"u-bob": 4}}
	second := &labs.Regrade{ID: "rg-2", Assignment: "a-1", Scope: "bob's submissions", By: "u-ada", At: at(6),
		Items: []labs.RegradeItem{{Submission: "r1", Run: "g2", User: "u-bob", Exercise: "connect"}}, Before: map[string]float64{}}
	for _, g := range []*labs.Regrade{first, second} {
		if err := s.CreateRegrade(ctx, g, "regraded "+g.Scope); err != nil {
			t.Fatalf("CreateRegrade(%s) = %v", g.ID, err)
		}
	}
	got, err := s.Regrade(ctx, "rg-1")
	if diff := cmp.Diff(first, got); err != nil || diff != "" {
		t.Errorf("Regrade(rg-1) = %v (-want +got):\n%s", err, diff)
	}
	list, err := s.Regrades(ctx, "a-1")
	if err != nil || len(list) != 2 || list[0].ID != "rg-2" || list[1].ID != "rg-1" {
		t.Errorf("Regrades(a-1) = %v, %v; want rg-2 then rg-1", list, err)
	}
	log, err := s.AuditLog(ctx, "a-1")
	if err != nil || len(log) != 2 || log[0].Action != "regrade" || log[1].Detail != "regraded bob's submissions" {
		t.Errorf("AuditLog(a-1) = %+v, %v; want both regrades", log, err)
	}
	for _, tc := range []struct {
		name string
		g    labs.Regrade
		want error
	}{
		{"taken id", *first, labs.ErrConflict},
		{"no assignment", labs.Regrade{ID: "rg-3", Assignment: "a-9", By: "u-ada", At: at(7), Items: first.Items}, labs.ErrNotFound},
		{"nothing to regrade", labs.Regrade{ID: "rg-4", Assignment: "a-1", By: "u-ada", At: at(7)}, labs.ErrInvalid},
		{"nobody asked", labs.Regrade{ID: "rg-5", Assignment: "a-1", At: at(7), Items: first.Items}, labs.ErrInvalid},
	} {
		if err := s.CreateRegrade(ctx, &tc.g, "x"); !errors.Is(err, tc.want) {
			t.Errorf("CreateRegrade(%s) = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Regrade(ctx, "rg-9"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Regrade(rg-9) = %v, want ErrNotFound", err)
	}
	if log, _ := s.AuditLog(ctx, "a-1"); len(log) != 2 {
		t.Errorf("a refused regrade was audited: %d entries, want 2", len(log))
	}
}
