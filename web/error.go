package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/asynclab/asynclab/templates"
)

// ErrorKind classifies an error for the HTTP status it maps to.
type ErrorKind int

// The kinds.
const (
	KindInternal ErrorKind = iota
	KindInvalid
	KindNotFound
	KindForbidden
	KindLimit // too many requests
	KindTooLarge
	KindUnavailable
	KindUnauthorized // not signed in
)

// Error is an error with a message safe to show to the user. Err, the
// detail, is logged and never shown.
type Error struct {
	Kind    ErrorKind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error of kind with a user-facing message.
func errorf(kind ErrorKind, format string, a ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// status maps an error to its HTTP status and the message the user sees.
// It is the only place that does.
func status(err error) (int, string) {
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "Something went wrong on our side. It has been logged."
	}
	switch e.Kind {
	case KindInvalid:
		return http.StatusBadRequest, e.Message
	case KindNotFound:
		return http.StatusNotFound, e.Message
	case KindForbidden:
		return http.StatusForbidden, e.Message
	case KindLimit:
		return http.StatusTooManyRequests, e.Message
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge, e.Message
	case KindUnavailable:
		return http.StatusServiceUnavailable, e.Message
	case KindUnauthorized:
		return http.StatusUnauthorized, e.Message
	}
	return http.StatusInternalServerError, "Something went wrong on our side. It has been logged."
}

// handle adapts a handler that returns an error: the error becomes a page
// with the right status, and internal errors are logged.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var e *Error
		if errors.As(err, &e) && e.Kind == KindUnauthorized && r.Method == http.MethodGet {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		code, msg := s.status(r, err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		templates.ErrorPage(code, msg, s.hostStatus()).Render(r.Context(), w)
	}
}

// api adapts a JSON handler: errors become {"error": message} with the
// same status as the pages give.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		code, msg := s.status(r, err)
		writeJSON(w, code, map[string]string{"error": msg})
	}
}

// status maps err to a status and message, logging internal errors.
func (s *Server) status(r *http.Request, err error) (int, string) {
	code, msg := status(err)
	if code >= 500 && code != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return code, msg
}
