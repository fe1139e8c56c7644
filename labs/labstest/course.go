package labstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/labs"
)

// CourseStoreTests runs the contract of [labs.CourseStore] against stores
// from open, which returns a new, empty store.
func CourseStoreTests(t *testing.T, open func(t *testing.T) labs.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, labs.Store)
	}{
		{"Courses", testCourses},
		{"CreateCourseErrors", testCreateCourseErrors},
		{"JoinCodes", testJoinCodes},
		{"Members", testMembers},
		{"Teaches", testTeaches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func newCourse(id, code string, n int) *labs.Course {
	return &labs.Course{ID: id, Name: "Operating Systems " + id, Term: "Spring 2027", TimeZone: "Europe/Paris", JoinCode: code, Created: at(n)}
}

func mustCreateCourse(t *testing.T, s labs.Store, c *labs.Course, owner string) {
	t.Helper()
	if err := s.CreateCourse(context.Background(), c, owner); err != nil {
		t.Fatalf("CreateCourse(%s) = %v", c.ID, err)
	}
}

func mustSetMember(t *testing.T, s labs.Store, m labs.Member) {
	t.Helper()
	if err := s.SetMember(context.Background(), m); err != nil {
		t.Fatalf("SetMember(%+v) = %v", m, err)
	}
}

// people makes an instructor ada and students bob, carol and dan.
func people(t *testing.T, s labs.Store) {
	mustCreateUser(t, s, newUser("u-ada", "ada@example.edu", "Ada", labs.RoleInstructor))
	mustCreateUser(t, s, newUser("u-bob", "bob@example.edu", "Bob", labs.RoleStudent))
	mustCreateUser(t, s, newUser("u-carol", "carol@example.edu", "Carol", labs.RoleStudent))
	mustCreateUser(t, s, newUser("u-dan", "dan@example.edu", "Dan", labs.RoleStudent))
}

func testCourses(t *testing.T, s labs.Store) {
	ctx := context.Background()
	people(t, s)
	os, net := newCourse("c-os", "OS-2027", 1), newCourse("c-net", "NET-2027", 2)
	mustCreateCourse(t, s, os, "u-ada")
	mustCreateCourse(t, s, net, "u-ada")
	got, err := s.Course(ctx, "c-os")
	if err != nil {
		t.Fatalf("Course(c-os) = %v", err)
	}
	if diff := cmp.Diff(os, got); diff != "" {
		t.Errorf("Course(c-os) (-want +got):\n%s", diff)
	}
	all, err := s.Courses(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "c-net" || all[1].ID != "c-os" {
		t.Errorf("Courses = %v, %v, want c-net then c-os (newest first)", all, err)
	}
	if _, err := s.Course(ctx, "c-missing"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Course(missing) = %v, want ErrNotFound", err)
	}
	// The creator is the course's instructor.
	m, err := s.Member(ctx, "c-os", "u-ada")
	if err != nil || m.Role != labs.CourseInstructor {
		t.Errorf("Member(c-os, ada) = %+v, %v, want the instructor", m, err)
	}
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Section: "A", Joined: at(3)})
	es, err := s.Enrolments(ctx, "u-ada")
	if err != nil || len(es) != 2 || es[0].ID != "c-net" || es[0].Role != labs.CourseInstructor {
		t.Errorf("Enrolments(ada) = %+v, %v, want both courses as instructor, newest first", es, err)
	}
	es, err = s.Enrolments(ctx, "u-bob")
	want := []labs.Enrolment{{Course: *os, Role: labs.CourseStudent, Section: "A"}}
	if diff := cmp.Diff(want, es); err != nil || diff != "" {
		t.Errorf("Enrolments(bob) = %v (-want +got):\n%s", err, diff)
	}
	if es, err := s.Enrolments(ctx, "u-dan"); err != nil || len(es) != 0 {
		t.Errorf("Enrolments(dan) = %v, %v, want none", es, err)
	}
}

func testCreateCourseErrors(t *testing.T, s labs.Store) {
	people(t, s)
	mustCreateCourse(t, s, newCourse("c-taken", "TAKEN", 0), "u-ada")
	tests := []struct {
		name  string
		edit  func(*labs.Course)
		owner string
		want  error
	}{
		{"id taken", func(c *labs.Course) { c.ID = "c-taken" }, "u-ada", labs.ErrConflict},
		{"join code taken", func(c *labs.Course) { c.JoinCode = "TAKEN" }, "u-ada", labs.ErrConflict},
		{"no name", func(c *labs.Course) { c.Name = "" }, "u-ada", labs.ErrInvalid},
		{"no join code", func(c *labs.Course) { c.JoinCode = "" }, "u-ada", labs.ErrInvalid},
		{"zero created", func(c *labs.Course) { c.Created = time.Time{} }, "u-ada", labs.ErrInvalid},
		{"owner without an account", func(*labs.Course) {}, "u-missing", labs.ErrNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCourse("c-new-"+tt.name, "NEW-"+string(rune('A'+i)), 1)
			tt.edit(c)
			if err := s.CreateCourse(context.Background(), c, tt.owner); !errors.Is(err, tt.want) {
				t.Errorf("CreateCourse(%+v, %s) = %v, want %v", c, tt.owner, err, tt.want)
			}
		})
	}
	if _, err := s.Member(context.Background(), "c-new-owner without an account", "u-missing"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("a refused course left a member: %v", err)
	}
}

func testJoinCodes(t *testing.T, s labs.Store) {
	ctx := context.Background()
	people(t, s)
	mustCreateCourse(t, s, newCourse("c-os", "OS-2027", 1), "u-ada")
	mustCreateCourse(t, s, newCourse("c-net", "NET-2027", 2), "u-ada")
	if c, err := s.CourseByJoinCode(ctx, "OS-2027"); err != nil || c.ID != "c-os" {
		t.Errorf("CourseByJoinCode(OS-2027) = %v, %v, want c-os", c, err)
	}
	if err := s.SetJoinCode(ctx, "c-os", "NET-2027"); !errors.Is(err, labs.ErrConflict) {
		t.Errorf("SetJoinCode(c-os, another course's code) = %v, want ErrConflict", err)
	}
	if err := s.SetJoinCode(ctx, "c-os", "OS-NEW"); err != nil {
		t.Fatalf("SetJoinCode(c-os, OS-NEW) = %v", err)
	}
	if _, err := s.CourseByJoinCode(ctx, "OS-2027"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("CourseByJoinCode(the old code) = %v, want ErrNotFound", err)
	}
	if c, err := s.CourseByJoinCode(ctx, "OS-NEW"); err != nil || c.ID != "c-os" {
		t.Errorf("CourseByJoinCode(OS-NEW) = %v, %v, want c-os", c, err)
	}
	if err := s.SetJoinCode(ctx, "c-missing", "X"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("SetJoinCode(missing course) = %v, want ErrNotFound", err)
	}
}

func testMembers(t *testing.T, s labs.Store) {
	ctx := context.Background()
	people(t, s)
	mustCreateCourse(t, s, newCourse("c-os", "OS-2027", 1), "u-ada")
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-dan", Role: labs.CourseStudent, Section: "B", Joined: at(2)})
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Section: "A", Joined: at(3)})
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-carol", Role: labs.CourseTA, Joined: at(4)})
	// A second SetMember changes the role and section and keeps Joined.
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-dan", Role: labs.CourseStudent, Section: "A", Joined: at(9)})
	got, err := s.Members(ctx, "c-os")
	if err != nil {
		t.Fatalf("Members = %v", err)
	}
	want := []labs.RosterEntry{
		{Member: labs.Member{Course: "c-os", User: "u-ada", Role: labs.CourseInstructor, Joined: at(1)}, Name: "Ada", Email: "ada@example.edu"},
		{Member: labs.Member{Course: "c-os", User: "u-carol", Role: labs.CourseTA, Joined: at(4)}, Name: "Carol", Email: "carol@example.edu"},
		{Member: labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Section: "A", Joined: at(3)}, Name: "Bob", Email: "bob@example.edu"},
		{Member: labs.Member{Course: "c-os", User: "u-dan", Role: labs.CourseStudent, Section: "A", Joined: at(2)}, Name: "Dan", Email: "dan@example.edu"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	for name, tt := range map[string]struct {
		m    labs.Member
		want error
	}{
		"unknown role":   {labs.Member{Course: "c-os", User: "u-bob", Role: "owner", Joined: at(1)}, labs.ErrInvalid},
		"unknown person": {labs.Member{Course: "c-os", User: "u-missing", Role: labs.CourseStudent, Joined: at(1)}, labs.ErrNotFound},
		"unknown course": {labs.Member{Course: "c-missing", User: "u-bob", Role: labs.CourseStudent, Joined: at(1)}, labs.ErrNotFound},
	} {
		if err := s.SetMember(ctx, tt.m); !errors.Is(err, tt.want) {
			t.Errorf("SetMember(%s) = %v, want %v", name, err, tt.want)
		}
	}
	if _, err := s.Member(ctx, "c-os", "u-missing"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Member(not in the course) = %v, want ErrNotFound", err)
	}
}

func testTeaches(t *testing.T, s labs.Store) {
	ctx := context.Background()
	people(t, s)
	mustCreateCourse(t, s, newCourse("c-os", "OS", 1), "u-ada")
	mustCreateCourse(t, s, newCourse("c-net", "NET", 2), "u-ada")
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-bob", Role: labs.CourseStudent, Joined: at(3)})
	mustSetMember(t, s, labs.Member{Course: "c-os", User: "u-carol", Role: labs.CourseTA, Joined: at(3)})
	mustSetMember(t, s, labs.Member{Course: "c-net", User: "u-dan", Role: labs.CourseStudent, Joined: at(3)})
	mustSetMember(t, s, labs.Member{Course: "c-net", User: "u-carol", Role: labs.CourseStudent, Joined: at(3)})
	for _, tt := range []struct {
		staff, student string
		want           bool
	}{
		{"u-ada", "u-bob", true},
		{"u-carol", "u-bob", true},  // a TA of bob's course
		{"u-carol", "u-dan", false}, // carol is a student in dan's course, not its staff
		{"u-bob", "u-carol", false}, // a student teaches no one
		{"u-ada", "u-carol", true},  // carol is ada's student in c-net
		{"u-dan", "u-dan", false},   // not even themselves
		{"u-ada", "u-ada", false},   // the instructor is no student
		{"u-missing", "u-bob", false},
	} {
		if got, err := s.Teaches(ctx, tt.staff, tt.student); err != nil || got != tt.want {
			t.Errorf("Teaches(%s, %s) = %v, %v, want %v", tt.staff, tt.student, got, err, tt.want)
		}
	}
}
