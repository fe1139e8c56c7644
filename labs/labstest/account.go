package labstest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/asynclab/asynclab/labs"
)

// AccountStoreTests runs the contract of [labs.AccountStore] against
// stores from open, which returns a new, empty store.
func AccountStoreTests(t *testing.T, open func(t *testing.T) labs.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, labs.Store)
	}{
		{"Users", testUsers},
		{"CreateUserErrors", testCreateUserErrors},
		{"Sessions", testSessions},
		{"Links", testLinks},
		{"LinkUsedOnce", testLinkUsedOnce},
		{"Setup", testSetup},
		{"FirstInstructorOnce", testFirstInstructorOnce},
		{"Settings", testSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func newUser(id, email, name string, role labs.Role) *labs.User {
	return &labs.User{ID: id, Email: email, Name: name, Role: role, Created: at(0)}
}

func mustCreateUser(t *testing.T, s labs.Store, u *labs.User) {
	t.Helper()
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s) = %v", u.ID, err)
	}
}

func testUsers(t *testing.T, s labs.Store) {
	ctx := context.Background()
	ada := newUser("u-ada", "ada@example.edu", "Ada Lovelace", labs.RoleInstructor)
	ada.Password = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	bob := newUser("u-bob", "bob@example.edu", "Bob", labs.RoleStudent)
	eve := newUser("u-eve", "eve@example.edu", "Bob", labs.RoleStudent) // same name: then by email
	for _, u := range []*labs.User{eve, ada, bob} {
		mustCreateUser(t, s, u)
	}
	got, err := s.User(ctx, "u-ada")
	if err != nil {
		t.Fatalf("User(u-ada) = %v", err)
	}
	if diff := cmp.Diff(ada, got); diff != "" {
		t.Errorf("User(u-ada) (-want +got):\n%s", diff)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("User(u-ada).Created location = %v, want UTC", got.Created.Location())
	}
	if got, err := s.UserByEmail(ctx, "bob@example.edu"); err != nil || got.ID != "u-bob" {
		t.Errorf("UserByEmail(bob@example.edu) = %v, %v, want u-bob", got, err)
	}
	all, err := s.Users(ctx)
	if err != nil {
		t.Fatalf("Users = %v", err)
	}
	var ids []string
	for _, u := range all {
		ids = append(ids, u.ID)
	}
	if want := []string{"u-ada", "u-bob", "u-eve"}; !cmp.Equal(ids, want) {
		t.Errorf("Users = %v, want %v", ids, want)
	}

	if err := s.SetPassword(ctx, "u-bob", "new-hash"); err != nil {
		t.Fatalf("SetPassword(u-bob) = %v", err)
	}
	if got, _ := s.User(ctx, "u-bob"); got == nil || got.Password != "new-hash" {
		t.Errorf("User(u-bob) after SetPassword = %+v, want Password new-hash", got)
	}
	for name, err := range map[string]error{
		"User(missing)":        second(s.User(ctx, "u-missing")),
		"UserByEmail(missing)": second(s.UserByEmail(ctx, "nobody@example.edu")),
		"SetPassword(missing)": s.SetPassword(ctx, "u-missing", "h"),
	} {
		if !errors.Is(err, labs.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func testCreateUserErrors(t *testing.T, s labs.Store) {
	mustCreateUser(t, s, newUser("u-taken", "taken@example.edu", "Taken", labs.RoleStudent))
	tests := []struct {
		name string
		edit func(*labs.User)
		want error
	}{
		{"id taken", func(u *labs.User) { u.ID = "u-taken" }, labs.ErrConflict},
		{"email taken", func(u *labs.User) { u.Email = "taken@example.edu" }, labs.ErrConflict},
		{"empty id", func(u *labs.User) { u.ID = "" }, labs.ErrInvalid},
		{"empty email", func(u *labs.User) { u.Email = "" }, labs.ErrInvalid},
		{"unknown role", func(u *labs.User) { u.Role = "admin" }, labs.ErrInvalid},
		{"zero created", func(u *labs.User) { u.Created = time.Time{} }, labs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser("u-new", "new@example.edu", "New", labs.RoleStudent)
			tt.edit(u)
			if err := s.CreateUser(context.Background(), u); !errors.Is(err, tt.want) {
				t.Errorf("CreateUser(%+v) = %v, want %v", u, err, tt.want)
			}
		})
	}
}

func testSessions(t *testing.T, s labs.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, newUser("u-ada", "ada@example.edu", "Ada", labs.RoleInstructor))
	mustCreateUser(t, s, newUser("u-bob", "bob@example.edu", "Bob", labs.RoleStudent))
	sessions := []*labs.Session{
		{ID: "s1", User: "u-ada", Created: at(0), Expires: at(100)},
		{ID: "s2", User: "u-ada", Created: at(0), Expires: at(100)},
		{ID: "s3", User: "u-bob", Created: at(0), Expires: at(100)},
	}
	for _, ss := range sessions {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatalf("CreateSession(%s) = %v", ss.ID, err)
		}
	}
	if err := s.CreateSession(ctx, &labs.Session{ID: "s1", User: "u-bob", Created: at(0), Expires: at(100)}); !errors.Is(err, labs.ErrConflict) {
		t.Errorf("CreateSession(s1 again) = %v, want ErrConflict", err)
	}
	if err := s.CreateSession(ctx, &labs.Session{ID: "s9", User: "u-missing", Created: at(0), Expires: at(100)}); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("CreateSession(for nobody) = %v, want ErrNotFound", err)
	}
	got, err := s.Session(ctx, "s1", at(50))
	if err != nil {
		t.Fatalf("Session(s1) = %v", err)
	}
	if diff := cmp.Diff(sessions[0], got); diff != "" {
		t.Errorf("Session(s1) (-want +got):\n%s", diff)
	}
	if _, err := s.Session(ctx, "s1", at(100)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Session(s1) at its expiry = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, "s2"); err != nil {
		t.Fatalf("DeleteSession(s2) = %v", err)
	}
	if err := s.DeleteSession(ctx, "s2"); err != nil {
		t.Errorf("DeleteSession(s2) again = %v, want nil", err)
	}
	if _, err := s.Session(ctx, "s2", at(1)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Session(s2) after DeleteSession = %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, &labs.Session{ID: "s4", User: "u-ada", Created: at(0), Expires: at(100)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSessions(ctx, "u-ada"); err != nil || n != 2 {
		t.Errorf("DeleteSessions(u-ada) = %d, %v, want 2 (s1 and s4)", n, err)
	}
	for _, id := range []string{"s1", "s4"} {
		if _, err := s.Session(ctx, id, at(1)); !errors.Is(err, labs.ErrNotFound) {
			t.Errorf("Session(%s) after DeleteSessions = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.Session(ctx, "s3", at(1)); err != nil {
		t.Errorf("Session(s3) of another person after DeleteSessions(u-ada) = %v, want kept", err)
	}
}

func testLinks(t *testing.T, s labs.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, newUser("u-bob", "bob@example.edu", "Bob", labs.RoleStudent))
	l := &labs.Link{ID: "l1", Purpose: labs.LinkPassword, User: "u-bob", Created: at(0), Expires: at(100)}
	if err := s.CreateLink(ctx, l); err != nil {
		t.Fatalf("CreateLink = %v", err)
	}
	for name, tt := range map[string]struct {
		l    *labs.Link
		want error
	}{
		"id taken":        {&labs.Link{ID: "l1", Purpose: labs.LinkPassword, User: "u-bob", Created: at(0), Expires: at(100)}, labs.ErrConflict},
		"unknown person":  {&labs.Link{ID: "l2", Purpose: labs.LinkPassword, User: "u-missing", Created: at(0), Expires: at(100)}, labs.ErrNotFound},
		"unknown purpose": {&labs.Link{ID: "l3", Purpose: "delete", User: "u-bob", Created: at(0), Expires: at(100)}, labs.ErrInvalid},
		"no person":       {&labs.Link{ID: "l4", Purpose: labs.LinkPassword, Created: at(0), Expires: at(100)}, labs.ErrInvalid},
	} {
		if err := s.CreateLink(ctx, tt.l); !errors.Is(err, tt.want) {
			t.Errorf("CreateLink(%s) = %v, want %v", name, err, tt.want)
		}
	}
	got, err := s.Link(ctx, "l1", at(50))
	if err != nil {
		t.Fatalf("Link(l1) = %v", err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("Link(l1) (-want +got):\n%s", diff)
	}
	if _, err := s.Link(ctx, "l1", at(100)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Link(l1) at its expiry = %v, want ErrNotFound", err)
	}
	if _, err := s.UseLink(ctx, "l1", at(100)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("UseLink(l1) at its expiry = %v, want ErrNotFound", err)
	}
	used, err := s.UseLink(ctx, "l1", at(60))
	if err != nil {
		t.Fatalf("UseLink(l1) = %v", err)
	}
	want := *l
	want.Used = at(60)
	if diff := cmp.Diff(&want, used); diff != "" {
		t.Errorf("UseLink(l1) (-want +got):\n%s", diff)
	}
	if _, err := s.UseLink(ctx, "l1", at(61)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("UseLink(l1) a second time = %v, want ErrNotFound", err)
	}
	if _, err := s.Link(ctx, "l1", at(61)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Link(l1) once used = %v, want ErrNotFound", err)
	}
}

// testLinkUsedOnce uses one link from many goroutines: exactly one wins.
func testLinkUsedOnce(t *testing.T, s labs.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, newUser("u-bob", "bob@example.edu", "Bob", labs.RoleStudent))
	if err := s.CreateLink(ctx, &labs.Link{ID: "l1", Purpose: labs.LinkPassword, User: "u-bob", Created: at(0), Expires: at(100)}); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		errs []error
	)
	for range 8 {
		wg.Go(func() {
			_, err := s.UseLink(ctx, "l1", at(1))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, labs.ErrNotFound):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || len(errs) > 0 {
		t.Errorf("8 concurrent UseLink: %d won, errors %v; want 1 and none", won, errs)
	}
}

func testSetup(t *testing.T, s labs.Store) {
	ctx := context.Background()
	setup := func(id string) *labs.Link {
		return &labs.Link{ID: id, Purpose: labs.LinkSetup, Created: at(0), Expires: at(100)}
	}
	if ok, err := s.Setup(ctx, setup("first")); err != nil || !ok {
		t.Fatalf("Setup(first) on an empty store = %v, %v, want true", ok, err)
	}
	// A second start replaces the link it printed before.
	if ok, err := s.Setup(ctx, setup("second")); err != nil || !ok {
		t.Fatalf("Setup(second) = %v, %v, want true", ok, err)
	}
	if _, err := s.Link(ctx, "first", at(1)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Link(first) after a second Setup = %v, want ErrNotFound", err)
	}
	ada := newUser("u-ada", "ada@example.edu", "Ada", labs.RoleInstructor)
	if err := s.CreateFirstInstructor(ctx, "first", at(1), ada); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("CreateFirstInstructor with the replaced link = %v, want ErrNotFound", err)
	}
	if err := s.CreateFirstInstructor(ctx, "second", at(100), ada); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("CreateFirstInstructor with an expired link = %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, "u-ada"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("User(u-ada) after failed CreateFirstInstructor = %v, want ErrNotFound", err)
	}
	if err := s.CreateFirstInstructor(ctx, "second", at(1), ada); err != nil {
		t.Fatalf("CreateFirstInstructor(second) = %v", err)
	}
	if got, err := s.User(ctx, "u-ada"); err != nil || got.Role != labs.RoleInstructor {
		t.Errorf("User(u-ada) = %+v, %v, want an instructor", got, err)
	}
	if ok, err := s.Setup(ctx, setup("third")); err != nil || ok {
		t.Errorf("Setup(third) once someone has an account = %v, %v, want false", ok, err)
	}
	if _, err := s.Link(ctx, "third", at(1)); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Link(third) = %v, want not stored", err)
	}

	// A setup link left over from a race cannot make a second instructor.
	if err := s.CreateLink(ctx, &labs.Link{ID: "stale", Purpose: labs.LinkSetup, Created: at(0), Expires: at(100)}); err != nil {
		t.Fatalf("CreateLink(stale setup) = %v", err)
	}
	eve := newUser("u-eve", "eve@example.edu", "Eve", labs.RoleInstructor)
	if err := s.CreateFirstInstructor(ctx, "stale", at(2), eve); !errors.Is(err, labs.ErrConflict) {
		t.Errorf("CreateFirstInstructor once someone has an account = %v, want ErrConflict", err)
	}
	if _, err := s.User(ctx, "u-eve"); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("User(u-eve) = %v, want never stored", err)
	}
	// Not an instructor, or not a setup link: refused.
	if err := s.CreateFirstInstructor(ctx, "x", at(2), newUser("u-x", "x@example.edu", "X", labs.RoleStudent)); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("CreateFirstInstructor(a student) = %v, want ErrInvalid", err)
	}
}

func testSettings(t *testing.T, s labs.Store) {
	ctx := context.Background()
	if _, err := s.Setting(ctx, labs.SettingOpen); !errors.Is(err, labs.ErrNotFound) {
		t.Errorf("Setting(open) never set = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"off", "on", ""} {
		if err := s.SetSetting(ctx, labs.SettingOpen, v); err != nil {
			t.Fatalf("SetSetting(open, %q) = %v", v, err)
		}
		if got, err := s.Setting(ctx, labs.SettingOpen); err != nil || got != v {
			t.Errorf("Setting(open) = %q, %v, want %q", got, err, v)
		}
	}
	if err := s.SetSetting(ctx, "", "x"); !errors.Is(err, labs.ErrInvalid) {
		t.Errorf("SetSetting(empty key) = %v, want ErrInvalid", err)
	}
}

// testFirstInstructorOnce races sixteen setup links (left by starts that
// raced each other): however the transactions interleave, one instructor
// is made.
func testFirstInstructorOnce(t *testing.T, s labs.Store) {
	ctx := context.Background()
	ids := strings.Split("abcdefghijklmnop", "")
	for _, id := range ids {
		if err := s.CreateLink(ctx, &labs.Link{ID: id, Purpose: labs.LinkSetup, Created: at(0), Expires: at(100)}); err != nil {
			t.Fatalf("CreateLink(%s) = %v", id, err)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	for _, id := range ids {
		wg.Go(func() {
			err := s.CreateFirstInstructor(ctx, id, at(1), newUser("u-"+id, id+"@example.edu", id, labs.RoleInstructor))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, id)
			case !errors.Is(err, labs.ErrConflict):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	users, err := s.Users(ctx)
	if len(won) != 1 || len(errs) > 0 || err != nil || len(users) != 1 {
		t.Errorf("%d concurrent CreateFirstInstructor: won %v, errors %v, %d accounts (%v); want one of each and no errors", len(ids), won, errs, len(users), err)
	}
}
