package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
)

// clientCookie carries a browser's anonymous id.
const clientCookie = "lab_client"

// clientID returns the browser's anonymous id, setting the cookie on first
// use. It keys "my runs" and best scores until the classroom adds people.
// A browser without the cookie gets a new id on each call: call it once
// per request.
func clientID(w http.ResponseWriter, r *http.Request) string {
	if id, ok := sentClientID(r); ok {
		return id
	}
	id := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: clientCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: 365 * 24 * 3600})
	return id
}

// sentClientID returns the id the request's cookie carries, and whether it
// carries a valid one.
func sentClientID(r *http.Request) (string, bool) {
	c, err := r.Cookie(clientCookie)
	if err != nil || !validHex(c.Value, 32) {
		return "", false
	}
	return c.Value, true
}

// limitKey returns what the per-browser rate limit counts the request
// against: the signed-in person, else the id the browser sent, else its
// address, so that dropping the cookie does not buy a fresh allowance. A
// person's id begins "u-", a browser's is 32 hex digits and an address is
// neither, so none collide.
func limitKey(r *http.Request) string {
	if u := viewer(r); u != nil {
		return u.ID
	}
	if id, ok := sentClientID(r); ok {
		return id
	}
	return remoteHost(r)
}

// remoteHost returns the IP address the request came from, without its
// port.
func remoteHost(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

// validHex reports whether s is n hex digits.
func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// randomHex returns n random bytes in hex: the random part of the lab's
// ids (courses, assignments, people, regrades) and tokens.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
