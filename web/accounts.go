package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// sessionCookie carries a signed-in browser's session token.
const sessionCookie = "lab_session"

// How long a session and a one-time link last.
const (
	sessionTTL = 14 * 24 * time.Hour
	linkTTL    = 7 * 24 * time.Hour
	setupTTL   = 24 * time.Hour
)

type viewerKey struct{}

// viewer returns the signed-in person of the request, or nil.
func viewer(r *http.Request) *labs.User {
	u, _ := r.Context().Value(viewerKey{}).(*labs.User)
	return u
}

// newToken returns a random token for a cookie or a link, and its hash,
// which is all the store keeps.
func newToken() (token, hash string) {
	token = randomHex(32)
	return token, tokenHash(token)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// identify puts the request's signed-in person, if any, in its context,
// for the handlers and for every page's header.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || !validHex(c.Value, 64) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		ss, err := s.cfg.Store.Session(ctx, tokenHash(c.Value), s.cfg.Now())
		var u *labs.User
		if err == nil {
			u, err = s.cfg.Store.User(ctx, ss.User)
		}
		switch {
		case errors.Is(err, labs.ErrNotFound):
			clearSession(w, r) // expired, signed out elsewhere, or deleted
		case err != nil:
			s.log.Error("session lookup failed", "err", err)
		default:
			tv := templates.Viewer{Name: u.Name, Instructor: u.Role == labs.RoleInstructor, CSRF: csrfToken(w, r)}
			if student := s.viewingAs(r, u); student != nil {
				// The pages are the student's, as they see them; only the
				// banner says who is looking.
				ctx = context.WithValue(ctx, actingKey{}, u)
				tv = templates.Viewer{Name: student.Name, As: u.Name, CSRF: tv.CSRF}
				u = student
			}
			ctx = context.WithValue(ctx, viewerKey{}, u)
			ctx = templates.WithViewer(ctx, tv)
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// open reports whether the lab serves people without an account.
func (s *Server) open(ctx context.Context) bool {
	v, err := s.cfg.Store.Setting(ctx, labs.SettingOpen)
	if err != nil && !errors.Is(err, labs.ErrNotFound) {
		s.log.Error("reading the open setting failed; the lab stays closed", "err", err)
		return false
	}
	return v != "off"
}

// publicPaths are served to anyone, whatever the open setting: signing in,
// the assets the sign-in page needs, and the probes of the operators.
var publicPaths = []string{"/signin", "/link/", "/join", "/static/", "/healthz", "/readyz", "/metrics"}

// lockdown sends anyone not signed in to the sign-in page when the lab is
// not open: pages redirect, the API and the websocket answer 401.
func (s *Server) lockdown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viewer(r) != nil || isPublic(r.URL.Path) || s.open(r.Context()) {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ws/") {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Sign in first: this lab is open to its class only."})
			return
		}
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

func isPublic(path string) bool {
	for _, p := range publicPaths {
		if path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// owner is who a new run belongs to: the signed-in person, or the browser.
func owner(w http.ResponseWriter, r *http.Request) string {
	if u := viewer(r); u != nil {
		return u.ID
	}
	return clientID(w, r)
}

// mayOpen reports whether the request may see run: a run of a person is
// theirs and their courses' staff's (an instructor of the instance sees
// only the students of the courses they teach); a run made without an
// account is open to anyone who can use the lab, as its link always was.
func (s *Server) mayOpen(r *http.Request, run *labs.Run) (bool, error) {
	if !strings.HasPrefix(run.Client, userPrefix) {
		return true, nil
	}
	u := viewer(r)
	switch {
	case u == nil:
		return false, nil
	case u.ID == run.Client:
		return true, nil
	}
	if ok, err := s.cfg.Store.Teaches(r.Context(), u.ID, run.Client); ok || err != nil {
		return ok, err
	}
	// A run a teacher is showing to a course of theirs, while they show it.
	return s.showing(r, run.ID, u.ID)
}

// userPrefix begins every person's id, which an anonymous browser's id (32
// hex digits) never does.
const userPrefix = "u-"

func newUserID() string { return userPrefix + randomHex(8) }

// csrfFormValid reports whether a form carries the client's CSRF token.
func csrfFormValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// maxForm is the largest form the server reads: a roster of MaxRoster
// people fits.
const maxForm = 1 << 20

// requireFormCSRF refuses a form that does not carry the client's CSRF
// token, before anything else looks at the request, so that every state
// change is refused alike, whoever sends it.
func (s *Server) requireFormCSRF(next http.Handler) http.Handler {
	refuse := s.handle(func(http.ResponseWriter, *http.Request) error {
		return errorf(KindForbidden, "This page has expired or the form did not come from this site. Reload the page and try again.")
	})
	tooBig := s.handle(func(http.ResponseWriter, *http.Request) error {
		return errorf(KindTooLarge, "The form is larger than %d KiB.", maxForm>>10)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			tooBig(w, r)
			return
		}
		if !csrfFormValid(r) {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readForm returns the form requireFormCSRF has read and checked.
func readForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm == nil || !csrfFormValid(r) {
		return errorf(KindForbidden, "This page has expired or the form did not come from this site. Reload the page and try again.")
	}
	return nil
}

// signIn starts a new session for u: a new token every time, so a token
// planted in the browser before signing in is never the session's.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, u *labs.User) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.cfg.Store.DeleteSession(r.Context(), tokenHash(c.Value))
	}
	token, hash := newToken()
	now := s.cfg.Now()
	ss := &labs.Session{ID: hash, User: u.ID, Created: now, Expires: now.Add(sessionTTL)}
	if err := s.cfg.Store.CreateSession(r.Context(), ss); err != nil {
		return fmt.Errorf("sign in %s: %w", u.ID, err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: int(sessionTTL / time.Second)})
	return nil
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: -1})
}

// secure reports whether the browser reached the lab over TLS, directly or
// through a proxy that says so.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// localNext returns next if it is a path on this site, and "/" otherwise,
// so that a crafted sign-in link cannot send anyone elsewhere.
func localNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) serveSignInPage(w http.ResponseWriter, r *http.Request) error {
	if viewer(r) != nil {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	v := templates.SignInView{Next: localNext(r.URL.Query().Get("next")), CSRF: csrfToken(w, r), Open: s.open(r.Context())}
	return render(w, r, templates.SignIn(v, s.hostStatus()))
}

// serveSignIn checks an email and password and starts a session.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	email := labs.NormalEmail(r.PostFormValue("email"))
	v := templates.SignInView{Next: localNext(r.PostFormValue("next")), Email: email, CSRF: csrfToken(w, r), Open: s.open(r.Context())}
	fail := func(code int, msg string) error {
		v.Error = msg
		return renderStatus(w, r, code, templates.SignIn(v, s.hostStatus()))
	}
	if !s.signIns.allow(remoteHost(r)) || !s.signInsPerEmail.allow(email) {
		return fail(http.StatusTooManyRequests, "Too many sign-in attempts. Wait a few minutes and try again.")
	}
	u, err := s.cfg.Store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, labs.ErrNotFound) {
		return fmt.Errorf("sign in: %w", err)
	}
	hash := ""
	if u != nil {
		hash = u.Password
	}
	ok, err := checkPassword(r.Context(), hash, r.PostFormValue("password"))
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if !ok {
		return fail(http.StatusUnauthorized, "That email and password do not match an account here.")
	}
	if err := s.signIn(w, r, u); err != nil {
		return err
	}
	s.log.Info("signed in", "user", u.ID)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}

// serveSignOut ends this browser's session; with ?everywhere, every
// session of the person.
func (s *Server) serveSignOut(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Store.DeleteSession(r.Context(), tokenHash(c.Value)); err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	if u := viewer(r); u != nil && r.PostFormValue("everywhere") != "" {
		if _, err := s.cfg.Store.DeleteSessions(r.Context(), u.ID); err != nil {
			return fmt.Errorf("sign out everywhere: %w", err)
		}
	}
	clearSession(w, r)
	http.SetCookie(w, &http.Cookie{Name: viewAsCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r), MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// Setup prepares the first start: while nobody has an account, it makes a
// one-time link, valid for a day, that creates the first instructor's, and
// returns its URL under base. It returns "" once someone has an account.
// Each call replaces the link the one before made.
func (s *Server) Setup(ctx context.Context, base string) (string, error) {
	token, hash := newToken()
	now := s.cfg.Now()
	ok, err := s.cfg.Store.Setup(ctx, &labs.Link{ID: hash, Purpose: labs.LinkSetup, Created: now, Expires: now.Add(setupTTL)})
	if err != nil || !ok {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + "/link/" + token, nil
}

// link returns the unused, unexpired link the URL's token names.
func (s *Server) link(r *http.Request) (string, *labs.Link, error) {
	token := chi.URLParam(r, "token")
	notFound := errorf(KindNotFound, "This link has been used, has expired, or was never made. Ask your instructor for a new one.")
	if !validHex(token, 64) {
		return "", nil, notFound
	}
	l, err := s.cfg.Store.Link(r.Context(), tokenHash(token), s.cfg.Now())
	if errors.Is(err, labs.ErrNotFound) {
		return "", nil, notFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("link: %w", err)
	}
	return token, l, nil
}

// serveLinkPage shows what a one-time link does. It does not use the
// link, so a mail scanner that opens it spends nothing.
func (s *Server) serveLinkPage(w http.ResponseWriter, r *http.Request) error {
	token, l, err := s.link(r)
	if err != nil {
		return err
	}
	v := templates.LinkView{Token: token, Setup: l.Purpose == labs.LinkSetup, CSRF: csrfToken(w, r)}
	if !v.Setup {
		u, err := s.cfg.Store.User(r.Context(), l.User)
		if err != nil {
			return fmt.Errorf("link of %s: %w", l.User, err)
		}
		v.Name, v.Email = u.Name, u.Email
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return render(w, r, templates.LinkPage(v, s.hostStatus()))
}

// serveLink uses a one-time link: it sets the password (and, for the
// first start, makes the instructor) and signs the person in.
func (s *Server) serveLink(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	token, l, err := s.link(r)
	if err != nil {
		return err
	}
	v := templates.LinkView{Token: token, Setup: l.Purpose == labs.LinkSetup, CSRF: csrfToken(w, r),
		Name: strings.TrimSpace(r.PostFormValue("name")), Email: labs.NormalEmail(r.PostFormValue("email"))}
	fail := func(msg string) error {
		v.Error = msg
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		return templates.LinkPage(v, s.hostStatus()).Render(r.Context(), w)
	}
	pw := r.PostFormValue("password")
	if len(pw) < MinPassword || len(pw) > MaxPassword {
		return fail(fmt.Sprintf("A password has %d to %d characters.", MinPassword, MaxPassword))
	}
	hash, err := hashPassword(r.Context(), pw)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	var u *labs.User
	if v.Setup {
		if v.Name == "" || len(v.Name) > 200 || !strings.Contains(v.Email, "@") {
			return fail("Give your name and your email address.")
		}
		u = &labs.User{ID: newUserID(), Email: v.Email, Name: v.Name, Role: labs.RoleInstructor, Password: hash, Created: now}
		err := s.cfg.Store.CreateFirstInstructor(r.Context(), tokenHash(token), now, u)
		if errors.Is(err, labs.ErrNotFound) || errors.Is(err, labs.ErrConflict) {
			return errorf(KindNotFound, "This link has been used, has expired, or was never made.")
		}
		if err != nil {
			return fmt.Errorf("first instructor: %w", err)
		}
		s.log.Info("first instructor created", "user", u.ID)
	} else {
		if _, err := s.cfg.Store.UseLink(r.Context(), tokenHash(token), now); errors.Is(err, labs.ErrNotFound) {
			return errorf(KindNotFound, "This link has just been used.")
		} else if err != nil {
			return fmt.Errorf("use link: %w", err)
		}
		if err := s.cfg.Store.SetPassword(r.Context(), l.User, hash); err != nil {
			return fmt.Errorf("set password of %s: %w", l.User, err)
		}
		// A new password ends every session the old one started.
		if _, err := s.cfg.Store.DeleteSessions(r.Context(), l.User); err != nil {
			return fmt.Errorf("sign out %s everywhere: %w", l.User, err)
		}
		if u, err = s.cfg.Store.User(r.Context(), l.User); err != nil {
			return fmt.Errorf("user %s: %w", l.User, err)
		}
		s.log.Info("password set", "user", u.ID)
	}
	if err := s.signIn(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// instructor refuses anyone but a signed-in instructor.
func instructor(r *http.Request) error {
	u := viewer(r)
	if u == nil {
		return errorf(KindUnauthorized, "Sign in first.")
	}
	if u.Role != labs.RoleInstructor {
		return errorf(KindForbidden, "Only an instructor can open this page.")
	}
	return nil
}

func (s *Server) servePeople(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	return s.renderPeople(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderPeople(w http.ResponseWriter, r *http.Request, code int, issued *templates.IssuedLink, msg string) error {
	users, err := s.cfg.Store.Users(r.Context())
	if err != nil {
		return fmt.Errorf("people: %w", err)
	}
	v := templates.PeopleView{Issued: issued, Error: msg, CSRF: csrfToken(w, r)}
	for _, u := range users {
		v.People = append(v.People, templates.PersonItem{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role),
			Created: u.Created.Format("2006-01-02"), HasPassword: u.Password != ""})
	}
	w.Header().Set("Cache-Control", "no-store") // it may show a link
	return renderStatus(w, r, code, templates.People(v, s.hostStatus()))
}

// serveAddPerson makes an account without a password and a one-time link
// that sets it.
func (s *Server) serveAddPerson(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	name, email, role := strings.TrimSpace(r.PostFormValue("name")), labs.NormalEmail(r.PostFormValue("email")), labs.Role(r.PostFormValue("role"))
	switch {
	case name == "" || len(name) > 200:
		return s.renderPeople(w, r, http.StatusBadRequest, nil, "Give the person's name.")
	case !strings.Contains(email, "@") || len(email) > 254:
		return s.renderPeople(w, r, http.StatusBadRequest, nil, "Give the person's email address.")
	case !role.Valid():
		return s.renderPeople(w, r, http.StatusBadRequest, nil, "The role is student or instructor.")
	}
	u := &labs.User{ID: newUserID(), Email: email, Name: name, Role: role, Created: s.cfg.Now()}
	err := s.cfg.Store.CreateUser(r.Context(), u)
	if errors.Is(err, labs.ErrConflict) {
		return s.renderPeople(w, r, http.StatusConflict, nil, fmt.Sprintf("Someone already has the address %s.", email))
	}
	if err != nil {
		return fmt.Errorf("add person: %w", err)
	}
	s.log.Info("person added", "user", u.ID, "role", role, "by", viewer(r).ID)
	return s.issueLink(w, r, u)
}

// serveNewLink makes a new one-time link for a person: a password reset.
func (s *Server) serveNewLink(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	u, err := s.cfg.Store.User(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "There is no such person.")
	}
	if err != nil {
		return fmt.Errorf("new link: %w", err)
	}
	return s.issueLink(w, r, u)
}

func (s *Server) issueLink(w http.ResponseWriter, r *http.Request, u *labs.User) error {
	token, hash := newToken()
	now := s.cfg.Now()
	l := &labs.Link{ID: hash, Purpose: labs.LinkPassword, User: u.ID, Created: now, Expires: now.Add(linkTTL)}
	if err := s.cfg.Store.CreateLink(r.Context(), l); err != nil {
		return fmt.Errorf("link for %s: %w", u.ID, err)
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	issued := &templates.IssuedLink{Name: u.Name, URL: scheme + "://" + r.Host + "/link/" + token,
		Expires: l.Expires.UTC().Format("2006-01-02 15:04 UTC")}
	return s.renderPeople(w, r, http.StatusOK, issued, "")
}

func (s *Server) serveSettings(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	v := templates.SettingsView{Open: s.open(r.Context()), Saved: r.URL.Query().Get("saved") != "", CSRF: csrfToken(w, r)}
	return render(w, r, templates.Settings(v, s.hostStatus()))
}

func (s *Server) serveSaveSettings(w http.ResponseWriter, r *http.Request) error {
	if err := instructor(r); err != nil {
		return err
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	open := "off"
	if r.PostFormValue("open") == "on" {
		open = "on"
	}
	if err := s.cfg.Store.SetSetting(r.Context(), labs.SettingOpen, open); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	s.log.Info("setting changed", "key", labs.SettingOpen, "value", open, "by", viewer(r).ID)
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	return nil
}
