package web

import (
	"crypto/subtle"
	"net/http"
)

// csrfCookie carries a browser's CSRF token.
const csrfCookie = "csrf"

// csrfToken returns the client's token, setting the cookie on first use.
// The form carries it back; a cross-site form cannot read the cookie.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validHex(c.Value, 32) {
		return c.Value
	}
	tok := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// requireCSRF refuses a state-changing API request that does not carry
// the client's token.
func (s *Server) requireCSRF(next http.Handler) http.Handler {
	refuse := s.api(func(http.ResponseWriter, *http.Request) error {
		return errorf(KindForbidden, "This page has expired or the request did not come from this site. Reload the page and try again.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !csrfHeaderValid(r) {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfHeaderValid reports whether the request carries the client's token
// in its X-CSRF-Token header. A cross-site page can neither read the
// cookie nor set the header without a preflight this server never allows.
func csrfHeaderValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.Header.Get("X-CSRF-Token"))) == 1
}
