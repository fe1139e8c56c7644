package web_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/web"
)

// BenchmarkGradebook measures, in one run, an assignment's gradebook page,
// the course's gradebook page and the course's grades CSV for a course of 300 students, 10 assignments
// and 20 graded submissions per student and assignment (60,000 runs), each
// against the same request on an empty course, the baseline:
//
//	go test -run '^$' -bench Gradebook -benchtime 20x ./web/
func BenchmarkGradebook(b *testing.B) {
	const students, assignments, perStudent = 300, 10, 20
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "lab.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(store.CreateUser(ctx, &labs.User{ID: "u-ada", Email: "ada@example.edu", Name: "Ada", Role: labs.RoleInstructor, Created: now}))
	for _, c := range []string{"c-big", "c-empty"} {
		must(store.CreateCourse(ctx, &labs.Course{ID: c, Name: c, Term: "t", TimeZone: "UTC", JoinCode: c, Created: now}, "u-ada"))
		for i := range assignments {
			must(store.CreateAssignment(ctx, &labs.Assignment{ID: fmt.Sprintf("a-%s-%d", c, i), Course: c, Title: fmt.Sprintf("Week %d", i),
				Items: []labs.AssignmentItem{{Exercise: "connect", Points: 10}}, Opens: now.Add(-time.Hour), Due: now.Add(time.Hour),
				Scoring: labs.ScoreBest, Feedback: labs.FeedbackAll, Created: now}))
		}
	}
	for i := range students {
		id := fmt.Sprintf("u-s%03d", i)
		must(store.CreateUser(ctx, &labs.User{ID: id, Email: id + "@example.edu", Name: fmt.Sprintf("Student %03d", i), Role: labs.RoleStudent, Created: now}))
		must(store.SetMember(ctx, labs.Member{Course: "c-big", User: id, Role: labs.CourseStudent, Section: fmt.Sprint("S", i%6), Joined: now}))
	}
	seedSubmissions(b, path, students, assignments, perStudent, now)

	srv := web.New(web.Config{Exercises: catalog.All(), Store: store})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	token := strings.Repeat("ab", 32)
	sum := sha256.Sum256([]byte(token))
	must(store.CreateSession(ctx, &labs.Session{ID: hex.EncodeToString(sum[:]), User: "u-ada", Created: now, Expires: now.Add(time.Hour)}))
	get := func(path string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "lab_session", Value: token})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			b.Fatalf("GET %s = %d, %d bytes", path, resp.StatusCode, n)
		}
	}
	cases := []struct{ name, big, empty string }{
		{"gradebook page", "/assignments/a-c-big-0", "/assignments/a-c-empty-0"},
		{"course's page", "/courses/c-big/grades", "/courses/c-empty/grades"},
		{"grades CSV", "/courses/c-big/grades.csv", "/courses/c-empty/grades.csv"},
	}
	took := map[string]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for _, c := range cases {
			for _, p := range []string{c.big, c.empty} {
				t0 := time.Now()
				get(p)
				took[p] += time.Since(t0)
			}
		}
	}
	b.StopTimer()
	for _, c := range cases {
		big, empty := took[c.big]/time.Duration(b.N), took[c.empty]/time.Duration(b.N)
		fmt.Printf("%-15s %4d students x %2d assignments x %2d submissions: %8v   empty course: %8v   ratio %.1f\n",
			c.name, students, assignments, perStudent, big.Round(time.Microsecond), empty.Round(time.Microsecond), float64(big)/float64(empty))
		b.ReportMetric(float64(big)/float64(empty), strings.ReplaceAll(c.name, " ", "-")+"/empty")
	}
}

// seedSubmissions writes the graded submissions straight into the store's
// file, in one transaction: through the store, 60,000 runs would take
// three transactions each.
func seedSubmissions(b *testing.B, path string, students, assignments, perStudent int, now time.Time) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO runs (id, exercise, mode, client, code, status, verdict, score, max_score, created, started, finished, assignment)
		VALUES (?, 'connect', 'submit', ?, 'package handler', 'done', 'failed', ?, 10, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for s := range students {
		for a := range assignments {
			for k := range perStudent {
				at := now.Add(-time.Duration(n) * time.Millisecond).UnixNano()
				if _, err := stmt.Exec(fmt.Sprintf("r%07d", n), fmt.Sprintf("u-s%03d", s), (s+a+k)%11, at, at, at, fmt.Sprintf("a-c-big-%d", a)); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
