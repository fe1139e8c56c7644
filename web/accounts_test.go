package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/asynclab/asynclab/labs"
)

// browser is one person's browser: its own cookies, redirects not
// followed, so each answer can be checked.
type browser struct {
	t  *testing.T
	ts *testServer
	c  *http.Client
}

func (ts *testServer) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, ts: ts, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.ts.URL+path, nil)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`)

// csrf returns the browser's CSRF token, from the sign-in page's form.
func (b *browser) csrf() string {
	b.t.Helper()
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "csrf" {
			return c.Value
		}
	}
	_, page := b.get("/signin")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("the sign-in page has no CSRF field")
	}
	return m[1]
}

// post sends a form with the browser's CSRF token added.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	req, _ := http.NewRequest("POST", b.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) signIn(email, password string) *http.Response {
	b.t.Helper()
	resp, _ := b.post("/signin", url.Values{"email": {email}, "password": {password}})
	return resp
}

func wantStatus(t *testing.T, what string, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Errorf("%s = %d, want %d", what, resp.StatusCode, want)
	}
}

// issued returns the one-time link a people page shows.
func issued(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`value="(http://[^"]+/link/[0-9a-f]{64})"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the people page shows no link")
	}
	return m[1]
}

// TestAccounts walks the first start, inviting a student, signing in and
// out, resetting a password, and closing the lab, through the real
// routes and a real SQLite store.
func TestAccounts(t *testing.T) {
	ts := newServer(t, nil)
	ctx := context.Background()

	first, err := ts.srv.Setup(ctx, ts.URL)
	if err != nil || !strings.HasPrefix(first, ts.URL+"/link/") {
		t.Fatalf("Setup = %q, %v, want a link", first, err)
	}
	link, err := ts.srv.Setup(ctx, ts.URL) // a restart prints a new one
	if err != nil || link == first {
		t.Fatalf("second Setup = %q, %v, want a new link", link, err)
	}
	ada := ts.browser(t)
	resp, _ := ada.get(strings.TrimPrefix(first, ts.URL))
	wantStatus(t, "GET the replaced setup link", resp, http.StatusNotFound)
	path := strings.TrimPrefix(link, ts.URL)
	resp, page := ada.get(path)
	wantStatus(t, "GET the setup link", resp, http.StatusOK)
	if !strings.Contains(page, "first instructor") {
		t.Errorf("the setup page does not say what it makes:\n%s", page)
	}
	resp, page = ada.post(path, url.Values{"name": {"Ada"}, "email": {"Ada@Example.edu "}, "password": {"short"}})
	wantStatus(t, "POST setup with a short password", resp, http.StatusBadRequest)
	if !strings.Contains(page, `data-testid="form-error"`) {
		t.Errorf("a short password shows no error")
	}
	resp, _ = ada.post(path, url.Values{"name": {"Ada"}, "email": {"Ada@Example.edu "}, "password": {"correct horse"}})
	wantStatus(t, "POST setup", resp, http.StatusSeeOther)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "lab_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie = %+v, want HttpOnly and SameSite=Lax", session)
	}
	if _, page := ada.get("/"); !strings.Contains(page, `data-testid="signed-in-as">Ada<`) {
		t.Errorf("the catalogue does not show Ada signed in")
	}
	if resp, _ := ada.post(path, url.Values{"name": {"Eve"}, "email": {"eve@example.edu"}, "password": {"correct horse"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("using the setup link again = %d, want 404", resp.StatusCode)
	}
	if again, err := ts.srv.Setup(ctx, ts.URL); err != nil || again != "" {
		t.Errorf("Setup once someone has an account = %q, %v, want none", again, err)
	}
	if u, err := ts.store.UserByEmail(ctx, "ada@example.edu"); err != nil || u.Role != labs.RoleInstructor || strings.Contains(u.Password, "correct horse") {
		t.Errorf("UserByEmail(ada) = %+v, %v, want an instructor with a hashed password", u, err)
	}

	// Ada invites Bob and Carol; each sets a password with their link.
	invite := func(name, email string) string {
		t.Helper()
		resp, page := ada.post("/people", url.Values{"name": {name}, "email": {email}, "role": {"student"}})
		wantStatus(t, "POST /people "+email, resp, http.StatusOK)
		return strings.TrimPrefix(issued(t, page), ts.URL)
	}
	bobLink, carolLink := invite("Bob", "bob@example.edu"), invite("Carol", "carol@example.edu")
	if resp, _ := ada.post("/people", url.Values{"name": {"Bob"}, "email": {"BOB@example.edu"}, "role": {"student"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("adding bob@ twice = %d, want 409", resp.StatusCode)
	}
	bob, carol := ts.browser(t), ts.browser(t)
	if _, page := bob.get(bobLink); !strings.Contains(page, "bob@example.edu") {
		t.Errorf("Bob's link page does not name him")
	}
	// A session token planted before signing in is not the one after.
	u, _ := url.Parse(ts.URL)
	planted := strings.Repeat("ab", 32)
	bob.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lab_session", Value: planted, Path: "/"}})
	resp, _ = bob.post(bobLink, url.Values{"password": {"bob's password"}})
	wantStatus(t, "Bob sets his password", resp, http.StatusSeeOther)
	for _, c := range bob.c.Jar.Cookies(u) {
		if c.Name == "lab_session" && c.Value == planted {
			t.Errorf("the planted session token survived signing in")
		}
	}
	if resp, _ := carol.post(bobLink, url.Values{"password": {"carol's password"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("reusing Bob's link = %d, want 404", resp.StatusCode)
	}
	carol.post(carolLink, url.Values{"password": {"carol's password"}})

	// Signing in: wrong and right passwords, and the rate limit.
	bob2 := ts.browser(t)
	wantStatus(t, "sign in with a wrong password", bob2.signIn("bob@example.edu", "wrong password"), http.StatusUnauthorized)
	wantStatus(t, "sign in with an unknown email", bob2.signIn("nobody@example.edu", "bob's password"), http.StatusUnauthorized)
	wantStatus(t, "sign in", bob2.signIn("BOB@example.edu", "bob's password"), http.StatusSeeOther)

	// Roles: only an instructor manages people and settings.
	anon := ts.browser(t)
	for path, want := range map[string]int{"/people": http.StatusForbidden, "/settings": http.StatusForbidden} {
		resp, _ := bob.get(path)
		wantStatus(t, "Bob GET "+path, resp, want)
		resp, _ = anon.get(path)
		wantStatus(t, "anonymous GET "+path, resp, http.StatusSeeOther)
	}
	wantStatus(t, "Bob POST /people", first2(bob.post("/people", url.Values{"name": {"X"}, "email": {"x@example.edu"}, "role": {"instructor"}})), http.StatusForbidden)
	wantStatus(t, "Ada POST /people without a CSRF token", first2(ada.post("/people", url.Values{"csrf": {""}, "name": {"X"}, "email": {"x@example.edu"}, "role": {"student"}})), http.StatusForbidden)

	// Sign out everywhere ends Bob's other browser too.
	wantStatus(t, "Bob signs out everywhere", first2(bob.post("/signout", url.Values{"everywhere": {"1"}})), http.StatusSeeOther)
	if _, page := bob2.get("/"); strings.Contains(page, "signed-in-as") {
		t.Errorf("Bob's other browser is still signed in after signing out everywhere")
	}

	// A reset link sets a new password and ends the old sessions.
	bob3 := ts.browser(t)
	bob3.signIn("bob@example.edu", "bob's password")
	bobU, _ := ts.store.UserByEmail(ctx, "bob@example.edu")
	_, page = ada.post("/people/"+bobU.ID+"/link", nil)
	reset := strings.TrimPrefix(issued(t, page), ts.URL)
	wantStatus(t, "Bob resets his password", first2(bob.post(reset, url.Values{"password": {"a new password"}})), http.StatusSeeOther)
	if _, page := bob3.get("/"); strings.Contains(page, "signed-in-as") {
		t.Errorf("a session from before the reset is still signed in")
	}
	wantStatus(t, "sign in with the old password", ts.browser(t).signIn("bob@example.edu", "bob's password"), http.StatusUnauthorized)

	// Closing the lab: pages ask for a sign-in, the API and the websocket
	// answer 401; the probes and the assets stay open.
	wantStatus(t, "Ada closes the lab", first2(ada.post("/settings", url.Values{})), http.StatusSeeOther)
	if v, err := ts.store.Setting(ctx, labs.SettingOpen); err != nil || v != "off" {
		t.Fatalf("Setting(open) = %q, %v, want off", v, err)
	}
	resp, _ = anon.get("/exercises/connect")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/signin?next=%2Fexercises%2Fconnect" {
		t.Errorf("anonymous GET /exercises/connect on a closed lab = %d to %q, want 303 to the sign-in page", resp.StatusCode, loc)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/exercises/connect/runs", strings.NewReader("{}"))
	wantStatus(t, "anonymous POST to the API on a closed lab", first2(anon.do(req)), http.StatusUnauthorized)
	for _, p := range []string{"/healthz", "/signin", "/static/lab.css"} {
		wantStatus(t, "anonymous GET "+p+" on a closed lab", first2(anon.get(p)), http.StatusOK)
	}
	wantStatus(t, "Bob GET / on a closed lab", first2(bob.get("/")), http.StatusOK)
	if resp, _ := bob.get("/"); resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a page lacks the security headers: %v", resp.Header)
	}

	// The sign-in rate limit: ten tries per account in five minutes.
	mallory := ts.browser(t)
	var last *http.Response
	for range 11 {
		last = mallory.signIn("carol@example.edu", "guess")
	}
	wantStatus(t, "the 11th sign-in try for one account", last, http.StatusTooManyRequests)
}

func first2(resp *http.Response, _ string) *http.Response { return resp }
